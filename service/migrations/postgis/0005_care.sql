-- civgrid PostGIS schema, version 5: people cared for by grid workers
-- (特殊人群), as counts per household grid and group only. No person-level
-- record is ever stored: the importer refuses files with other fields.
CREATE TABLE care_counts (id BIGSERIAL PRIMARY KEY, grid TEXT NOT NULL,
  care_group TEXT NOT NULL, people BIGINT NOT NULL);
CREATE UNIQUE INDEX care_counts_grid_group ON care_counts(grid, care_group);
