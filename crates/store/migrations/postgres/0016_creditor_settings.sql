-- Creditor settings edited on the web settings page (issue 7): the legal identity the letterhead
-- prints besides what `creditors` holds (RCS, VAT number, phone, signatory), the logo, the SMTP
-- account of the creditor's messages (the password is write-only for the pages), a contractual
-- late-interest rate (business customers, L441-10) and the local time of the daily run.
-- One row per creditor, absent until the page saves it.
CREATE TABLE creditor_settings (
    creditor_id BIGINT PRIMARY KEY REFERENCES creditors(id),
    rcs TEXT,
    vat_number TEXT,
    phone TEXT,
    signatory TEXT,
    logo BYTEA,
    logo_type TEXT,
    smtp_url TEXT,
    smtp_from TEXT,
    smtp_reply_to TEXT,
    smtp_password TEXT,
    contractual_rate TEXT,
    run_at TEXT,
    updated_at TEXT NOT NULL
);
