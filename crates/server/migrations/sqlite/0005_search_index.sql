-- Substring search through an index: an FTS5 table with the trigram
-- tokenizer answers `search_text LIKE '%word%'` (3+ letters) from its index.
-- Kept in step with titles by the db module, in the same transactions.
CREATE VIRTUAL TABLE titles_search USING fts5 (title_id UNINDEXED, search_text, tokenize = 'trigram');
INSERT INTO titles_search (title_id, search_text) SELECT id, search_text FROM titles;
