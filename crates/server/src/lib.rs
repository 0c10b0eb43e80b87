//! relance-server: the web UI, REST API and debtor portal (to be written; see issue 7).
