//! The developer portal, at `/portal`: where a team's members run their
//! own clients within the policy admins set. Its REST API ([`api`]) is an
//! adapter over the same operations as the admin API and the console.

pub mod api;
