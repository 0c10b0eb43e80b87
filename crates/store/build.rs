//! The migrations are embedded at compile time by `sqlx::migrate!`: tell cargo to rebuild the
//! crate when one is added or changed, or a build would keep the old set (sqlx's advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
