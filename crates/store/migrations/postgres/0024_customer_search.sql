-- Customer search that stays fast with 200,000 customers (issue 7): a trigram index (pg_trgm) of
-- the name, code, SIREN and e-mail addresses, case and accents folded, searched by word prefixes
-- like SQLite's full-text index (`durand 19` finds "Hôtel Durand 1999"): every word of the query
-- must begin a word of the text, `text LIKE '% word%'`, which the GIN index answers from the
-- word's trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Latin accents and ligatures folded, lower case, punctuation turned into spaces, a space at both
-- ends. IMMUTABLE (replace, translate, lower and regexp_replace are), so it can be indexed, and
-- independent of the database's locale for Latin letters; `unaccent()` cannot be indexed (its
-- dictionary may change).
CREATE FUNCTION relance_search_fold(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ' ' || regexp_replace(
        lower(translate(
            replace(replace(replace(replace(replace(t, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), 'ß', 'ss'),
            'àáâãäåāçćčďèéêëēėęěìíîïīñńňòóôõöøōŕřśšťùúûüūůýÿźżžÀÁÂÃÄÅĀÇĆČĎÈÉÊËĒĖĘĚÌÍÎÏĪÑŃŇÒÓÔÕÖØŌŔŘŚŠŤÙÚÛÜŪŮÝŸŹŻŽ',
            'aaaaaaacccdeeeeeeeeiiiiinnnooooooorrsstuuuuuuyyzzzaaaaaaacccdeeeeeeeeiiiiinnnooooooorrsstuuuuuuyyzzz')),
        '[][[:space:]!"#$%&''()*+,./:;<=>?@\\^_`{|}~’‘«»“”–—-]+', ' ', 'g') || ' '
$$;

-- What the search looks in, folded.
CREATE FUNCTION relance_customer_search(name TEXT, code TEXT, siren TEXT, emails TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT relance_search_fold(name || ' ' || code || ' ' || COALESCE(siren, '') || ' ' || emails)
$$;

CREATE INDEX customers_search ON customers
    USING gin (relance_customer_search(name, code, siren, emails) gin_trgm_ops);
