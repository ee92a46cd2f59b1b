//! What an apply sends, read from the emulator's request log: a write Azure answers
//! synchronously with the resource (200/201, no operation to follow) is not read back.

use crate::harness::{InProcessEmulator, Scratch, example_spec};
use exai_emulator::RequestKind;

/// ARM types whose PUT Azure answers synchronously with the resource: resource groups ("PUT is
/// synchronous, 201 on create, 200 on update; body echoes the group"), data collection rules and
/// their associations (200/201, no long-running extension in their swagger), role assignments
/// ("PUT is synchronous: 201 (created) / 200"); see docs/azure-facts.md.
fn synchronous(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let group = path.split('/').collect::<Vec<_>>();
    let is_group = group.len() == 5 && group[3] == "resourcegroups";
    is_group
        || ["/datacollectionrules/", "/datacollectionruleassociations/", "/roleassignments/"]
            .iter()
            .any(|t| path.contains(t))
}

#[test]
fn no_get_follows_a_synchronous_put_in_the_whole_recipe_apply() {
    let emulator = InProcessEmulator::start();
    let mut s = Scratch::with_spec(&example_spec());
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(2);
    let before = emulator.emulator.requests().len();
    s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    let log: Vec<_> =
        emulator.emulator.requests().into_iter().skip(before).filter(|r| r.kind == RequestKind::Arm).collect();
    let shown = || log.iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect::<Vec<_>>();
    let mut puts = 0;
    for (i, put) in log.iter().enumerate().filter(|(_, r)| r.method == "PUT" && synchronous(&r.path)) {
        assert!(matches!(put.status, 200 | 201), "{:#?}", shown());
        puts += 1;
        let reads_after =
            log[i + 1..].iter().filter(|r| r.method == "GET" && r.path.eq_ignore_ascii_case(&put.path)).count();
        assert_eq!(reads_after, 0, "`{}` is read again after its synchronous PUT: {:#?}", put.path, shown());
    }
    // Both environments' groups, rules, associations and role assignments were written.
    assert!(puts >= 8, "{puts} synchronous PUTs: {:#?}", shown());
}
