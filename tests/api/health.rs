use crate::helpers::TestApp;
use crate::on_both_backends;

async fn probes_answer(app: TestApp) {
    let res = app.send("GET", "/healthz", None, None).await;
    assert_eq!(res.status.as_u16(), 200);
    let res = app.send("GET", "/readyz", None, None).await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert_eq!(res.body["migrations"], "applied");
}
on_both_backends!(health_and_readiness_probes_answer, probes_answer);
