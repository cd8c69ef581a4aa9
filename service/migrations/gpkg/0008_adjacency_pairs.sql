-- civgrid GeoPackage schema, version 8: cell adjacency keyed by its pair of
-- codes, so `civgrid cells` removes only the pairs that changed.
CREATE UNIQUE INDEX cell_adjacency_pair ON cell_adjacency(a, b);
