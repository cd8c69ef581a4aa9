-- civgrid PostGIS schema, version 4: household grids (全科网格) with their
-- history (a retired grid keeps its row with end_date set; codes are never
-- reused) and the log of planner edits (before and after as GeoJSON).
CREATE TABLE grids (id BIGSERIAL PRIMARY KEY, geom geometry(MultiPolygon, 4490) NOT NULL,
  code TEXT NOT NULL UNIQUE, community TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  households BIGINT NOT NULL, population BIGINT, area_m2 DOUBLE PRECISION NOT NULL,
  worker_name TEXT, worker_phone TEXT, leader_name TEXT, leader_phone TEXT,
  start_date DATE NOT NULL, end_date DATE);
CREATE INDEX grids_community ON grids(community);
CREATE INDEX grids_geom ON grids USING gist (geom);
CREATE TABLE grid_edits (id BIGSERIAL PRIMARY KEY, community TEXT NOT NULL, op TEXT NOT NULL,
  author TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, request TEXT NOT NULL, before TEXT NOT NULL,
  after TEXT NOT NULL, reverts BIGINT);
CREATE INDEX grid_edits_community ON grid_edits(community);
