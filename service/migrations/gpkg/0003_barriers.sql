-- civgrid GeoPackage schema, version 3: barriers (rivers, canals, walls…),
-- lines that unit cells follow like road centre lines.
CREATE TABLE barriers (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom LINESTRING NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX barriers_source ON barriers(source);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('barriers', 'features', 'barriers', '河流/围墙 rivers, canals, walls that cells follow', 4490);
INSERT INTO gpkg_geometry_columns VALUES ('barriers', 'geom', 'LINESTRING', 4490, 0, 0);
