-- civgrid PostGIS schema, version 7: components (部件) with their
-- 16-digit codes, owner, maintainer, state and the unit cell holding them
-- (computed on import, on every move and when cells are rebuilt); and the
-- zones of overlay layers (police beats, fire districts, school-safety
-- zones, road sections…), each layer with its own codes.
CREATE TABLE components (id BIGSERIAL PRIMARY KEY, geom geometry(Geometry, 4490) NOT NULL,
  source TEXT NOT NULL, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, owner TEXT NOT NULL,
  maintainer TEXT NOT NULL, state TEXT NOT NULL, cell TEXT);
CREATE INDEX components_geom ON components USING gist (geom);
CREATE INDEX components_source ON components(source);
CREATE INDEX components_cell ON components(cell);
CREATE TABLE zones (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  source TEXT NOT NULL, layer TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
  complete BOOLEAN NOT NULL);
CREATE UNIQUE INDEX zones_layer_code ON zones(layer, code);
CREATE INDEX zones_geom ON zones USING gist (geom);
CREATE INDEX zones_source ON zones(source);
