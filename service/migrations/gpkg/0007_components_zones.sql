-- civgrid GeoPackage schema, version 7: components (部件) with their
-- 16-digit codes, owner, maintainer, state and the unit cell holding them
-- (computed on import, on every move and when cells are rebuilt); and the
-- zones of overlay layers (police beats, fire districts, school-safety
-- zones, road sections…), each layer with its own codes.
CREATE TABLE components (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY NOT NULL,
  source TEXT NOT NULL, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, owner TEXT NOT NULL,
  maintainer TEXT NOT NULL, state TEXT NOT NULL, cell TEXT);
CREATE INDEX components_source ON components(source);
CREATE INDEX components_cell ON components(cell);
CREATE TABLE zones (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  source TEXT NOT NULL, layer TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
  complete BOOLEAN NOT NULL);
CREATE UNIQUE INDEX zones_layer_code ON zones(layer, code);
CREATE INDEX zones_source ON zones(source);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('components', 'features', 'components', '部件 components: 16-digit code, owner, maintainer, state, unit cell', 4490),
 ('zones', 'features', 'zones', 'overlay zones: police beats, fire districts, school-safety zones, road sections', 4490);
INSERT INTO gpkg_geometry_columns VALUES ('components', 'geom', 'GEOMETRY', 4490, 0, 0);
INSERT INTO gpkg_geometry_columns VALUES ('zones', 'geom', 'MULTIPOLYGON', 4490, 0, 0);
