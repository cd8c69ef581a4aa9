-- civgrid PostGIS schema, version 1: the territory model, in EPSG:4490.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE districts (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE subdistricts (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE communities (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('urban', 'rural')));
CREATE TABLE buildings (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  source TEXT NOT NULL, name TEXT NOT NULL, levels INTEGER, households INTEGER NOT NULL,
  households_estimated BOOLEAN NOT NULL);
CREATE TABLE facilities (id BIGSERIAL PRIMARY KEY, geom geometry(Point, 4490) NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, capacity INTEGER, staff INTEGER, contact TEXT);
CREATE TABLE hazards (id BIGSERIAL PRIMARY KEY, geom geometry(Geometry, 4490) NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, method TEXT NOT NULL, level TEXT NOT NULL,
  lec_l DOUBLE PRECISION, lec_e DOUBLE PRECISION, lec_c DOUBLE PRECISION, likelihood INTEGER, severity INTEGER);
CREATE TABLE roads (id BIGSERIAL PRIMARY KEY, geom geometry(LineString, 4490) NOT NULL,
  source TEXT NOT NULL, class TEXT NOT NULL, name TEXT NOT NULL, speed_kmh DOUBLE PRECISION, oneway TEXT NOT NULL);
CREATE TABLE incidents (id BIGSERIAL PRIMARY KEY, geom geometry(Point, 4490) NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, time TIMESTAMPTZ NOT NULL);

CREATE INDEX districts_geom ON districts USING gist (geom);
CREATE INDEX subdistricts_geom ON subdistricts USING gist (geom);
CREATE INDEX communities_geom ON communities USING gist (geom);
CREATE INDEX buildings_geom ON buildings USING gist (geom);
CREATE INDEX facilities_geom ON facilities USING gist (geom);
CREATE INDEX hazards_geom ON hazards USING gist (geom);
CREATE INDEX roads_geom ON roads USING gist (geom);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX buildings_source ON buildings (source);
CREATE INDEX facilities_source ON facilities (source);
CREATE INDEX hazards_source ON hazards (source);
CREATE INDEX roads_source ON roads (source);
CREATE INDEX incidents_source ON incidents (source);
