-- Substring search through an index: trigrams of search_text, so
-- `search_text LIKE '%word%'` (3+ letters) is answered by the GIN index
-- instead of a scan of the library's titles.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX titles_search_trgm ON titles USING gin (search_text gin_trgm_ops);
