-- civgrid GeoPackage schema, version 2: unit cells (万米单元网格) with their
-- history (a retired cell keeps its row with end_date set; codes are never
-- reused) and the adjacency of active cells (an attributes table).
CREATE TABLE cells (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE, community TEXT NOT NULL, area_m2 DOUBLE NOT NULL, h3 TEXT NOT NULL,
  start_date DATE NOT NULL, end_date DATE);
CREATE INDEX cells_community ON cells(community);
CREATE TABLE cell_adjacency (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  a TEXT NOT NULL, b TEXT NOT NULL, shared_m DOUBLE NOT NULL);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('cells', 'features', 'cells', '万米单元网格 unit cells', 4490),
 ('cell_adjacency', 'attributes', 'cell_adjacency', 'pairs of active cells sharing an edge, with its length in m', NULL);
INSERT INTO gpkg_geometry_columns VALUES ('cells', 'geom', 'MULTIPOLYGON', 4490, 0, 0);
