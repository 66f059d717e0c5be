//! HTTP tests: the real application on a random port, over real HTTP, on
//! SQLite and on PostgreSQL.

mod abuse;
mod admin_audit;
mod admin_clients;
mod admin_keys;
mod admin_openapi;
mod admin_users;
mod alerts;
mod browser;
mod claim_mappings;
mod cli;
mod client_documents;
mod code_exchange;
mod code_flow;
mod console;
mod console_browser;
mod console_clients;
mod console_keys_users;
mod console_monitoring;
mod cors;
mod discovery;
mod health;
mod helpers;
mod introspection;
mod jwks;
mod metrics;
mod private_key_jwt;
mod rate_limits;
mod registration;
mod remediation;
mod sign_in_pages;
mod startup;
mod token;
mod usage;
mod user_attributes;
mod webhooks;
