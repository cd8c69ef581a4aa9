-- civgrid PostGIS schema, version 2: unit cells (万米单元网格) with their
-- history (a retired cell keeps its row with end_date set; codes are never
-- reused) and the adjacency of active cells.
CREATE TABLE cells (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  code TEXT NOT NULL UNIQUE, community TEXT NOT NULL, area_m2 DOUBLE PRECISION NOT NULL, h3 TEXT NOT NULL,
  start_date DATE NOT NULL, end_date DATE);
CREATE INDEX cells_community ON cells(community);
CREATE INDEX cells_geom ON cells USING gist (geom);
CREATE TABLE cell_adjacency (id BIGSERIAL PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL,
  shared_m DOUBLE PRECISION NOT NULL);
