-- civgrid GeoPackage schema, version 4: household grids (全科网格) with their
-- history (a retired grid keeps its row with end_date set; codes are never
-- reused) and the log of planner edits (before and after as GeoJSON).
CREATE TABLE grids (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL, community TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  households INTEGER NOT NULL, population INTEGER, area_m2 DOUBLE NOT NULL,
  worker_name TEXT, worker_phone TEXT, leader_name TEXT, leader_phone TEXT,
  start_date DATE NOT NULL, end_date DATE);
CREATE UNIQUE INDEX grids_code ON grids(code);
CREATE INDEX grids_community ON grids(community);
CREATE TABLE grid_edits (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  community TEXT NOT NULL, op TEXT NOT NULL, author TEXT NOT NULL, at DATETIME NOT NULL,
  request TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL, reverts INTEGER);
CREATE INDEX grid_edits_community ON grid_edits(community);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('grids', 'features', 'grids', '全科网格 household grids', 4490),
 ('grid_edits', 'attributes', 'grid_edits', 'planner edits of household grids: who, when, before and after', NULL);
INSERT INTO gpkg_geometry_columns VALUES ('grids', 'geom', 'MULTIPOLYGON', 4490, 0, 0);
