DROP TABLE retired_redirect_uris;
