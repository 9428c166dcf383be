-- Relevance order of catalogue search, as on the desktop: titles whose
-- title holds every word first, then those with every word in title,
-- people, series or subjects, then the rest. Both columns are lower-cased
-- by the server when it writes a title; rows from before this migration
-- get an approximation (the title lower-cased here, the whole search text)
-- until they are next written.
ALTER TABLE titles ADD COLUMN title_text TEXT NOT NULL DEFAULT '';
ALTER TABLE titles ADD COLUMN core_text TEXT NOT NULL DEFAULT '';
UPDATE titles SET title_text = LOWER(title), core_text = search_text;
