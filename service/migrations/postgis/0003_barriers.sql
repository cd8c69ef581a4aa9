-- civgrid PostGIS schema, version 3: barriers (rivers, canals, walls…),
-- lines that unit cells follow like road centre lines.
CREATE TABLE barriers (id BIGSERIAL PRIMARY KEY, geom geometry(LineString, 4490) NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX barriers_geom ON barriers USING gist (geom);
CREATE INDEX barriers_source ON barriers(source);
