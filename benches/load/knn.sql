-- pgbench script: the 5 nearest facilities to a random point of the load
-- box (see make-data.py) by PostGIS KNN over the GiST index.
\set ix random(0, 999999)
\set iy random(0, 999999)
SELECT id, kind, name, ST_X(geom), ST_Y(geom)
FROM facilities
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(119.90 + :ix * 0.00000052, 30.05 + :iy * 0.00000040), 4490)
LIMIT 5;
