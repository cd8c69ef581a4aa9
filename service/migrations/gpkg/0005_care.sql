-- civgrid GeoPackage schema, version 5: people cared for by grid workers
-- (特殊人群), as counts per household grid and group only. No person-level
-- record is ever stored: the importer refuses files with other fields.
CREATE TABLE care_counts (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  grid TEXT NOT NULL, care_group TEXT NOT NULL, people INTEGER NOT NULL);
CREATE UNIQUE INDEX care_counts_grid_group ON care_counts(grid, care_group);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('care_counts', 'attributes', 'care_counts', 'people cared for per household grid and group (counts only)', NULL);
