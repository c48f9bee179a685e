//! The store on both backends: every down.sql undoes its up.sql.

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn migrations_revert_and_apply_again(app: TestApp) {
    let mut conn = app.state.pool.get().expect("connection");
    let reverted = dsar::store::revert_all(&mut conn).expect("down.sql runs");
    assert!(reverted > 0);
    assert!(!dsar::store::migrations_applied(&mut conn).expect("check"));
    let applied = dsar::store::migrate(&mut conn).expect("up.sql runs again");
    assert_eq!(applied.len(), reverted);
    assert!(dsar::store::migrations_applied(&mut conn).expect("check"));
}
on_both_backends!(migrations, migrations_revert_and_apply_again);
