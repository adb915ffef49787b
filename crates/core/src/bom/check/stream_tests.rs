//! The streaming check against the whole-tree check: the same problems in
//! the same order, the same refusals, on BOMs mutated in many ways.

use super::*;
use crate::json::StrictJsonError;
use serde_json::json;

/// A BOM like `modelseal bom` writes, of `n` files.
fn generated(n: usize) -> Value {
    let files: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "file", "bom-ref": format!("file:{i}"), "name": format!("d/{i}.bin"),
                "hashes": [{"alg": "SHA-256", "content": format!("{i:064x}")}]})
        })
        .collect();
    let mut dependencies = vec![json!({"ref": "model:m",
        "dependsOn": (0..n).map(|i| format!("file:{i}")).collect::<Vec<_>>()})];
    dependencies.extend((0..n).map(|i| json!({"ref": format!("file:{i}"), "dependsOn": []})));
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "serialNumber": "urn:uuid:43fb8418-529c-5b32-a858-fcba785c3f2e", "version": 1,
        "metadata": {"timestamp": "2026-01-01T00:00:00Z",
            "component": {"type": "machine-learning-model", "bom-ref": "model:m", "name": "m",
                "modelCard": {"modelParameters": {"datasets": [{"ref": "file:0"}]}}}},
        "components": files,
        "dependencies": dependencies,
    })
}

/// The uniqueItems line of an array read item by item (top-level, or a
/// component's components) differs on purpose (the old one printed the
/// whole array); everything else must be identical.
fn normalized(problems: Vec<String>) -> Vec<String> {
    problems
        .into_iter()
        .map(|p| match p.split_once(": ") {
            Some((place, message)) if message.contains("has non-unique elements") => {
                format!("{place}: non-unique")
            }
            _ => p,
        })
        .collect()
}

/// Old (whole tree) and new (stream) on the same bytes.
fn both(bytes: &[u8]) -> (Result<Vec<String>, String>, Result<Vec<String>, String>) {
    let old = parse_bom(bytes)
        .map(|bom| normalized(check_bom(&bom)))
        .map_err(|e| e.to_string());
    let new = check_bom_reader(bytes)
        .map(normalized)
        .map_err(|e| match e {
            BomReadError::Json(e) => e.to_string(),
            e => format!("other: {e}"),
        });
    (old, new)
}

fn same(what: &str, bom: &Value) -> Vec<String> {
    let bytes = serde_json::to_vec_pretty(bom).unwrap();
    let (old, new) = both(&bytes);
    assert_eq!(old, new, "{what}");
    old.unwrap_or_default()
}

/// Adds a dataset as `modelseal bom --dataset` writes it: one `data`
/// component (`/components/40` of [`generated`]) with a component per file
/// inside, the third of which has two of its own.
fn dataset(bom: &mut Value, n: usize) {
    let files: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "file", "bom-ref": format!("ds:{i}"), "name": format!("ds/{i}.csv"),
                "hashes": [{"alg": "SHA-256", "content": format!("{:064x}", i + 7)}]})
        })
        .collect();
    let mut data = json!({"type": "data", "bom-ref": "dataset:ds", "name": "ds",
        "components": files});
    if n > 2 {
        data["components"][2]["components"] = json!([
            {"type": "file", "bom-ref": "ds:2/0", "name": "a"},
            {"type": "file", "bom-ref": "ds:2/1", "name": "b"}]);
    }
    bom["components"].as_array_mut().unwrap().push(data);
    bom["dependencies"][0]["dependsOn"]
        .as_array_mut()
        .unwrap()
        .push(json!("dataset:ds"));
}

#[test]
fn a_dataset_reads_the_same_both_ways() {
    let mut bom = generated(40);
    dataset(&mut bom, 30);
    assert_eq!(same("dataset", &bom), Vec::<String>::new());
    let ds = bom["components"][40]["components"].as_array_mut().unwrap();
    let c = ds[3].clone();
    ds.push(c);
    let bytes = serde_json::to_vec(&bom).unwrap();
    let problems = check_bom_reader(bytes.as_slice()).unwrap();
    assert!(
        problems.contains(
            &"/components/40/components: [... 31 items] has non-unique elements \
              (/components/40/components/30 equals /components/40/components/3)"
                .to_string()
        ),
        "{problems:#?}"
    );
    assert!(
        problems.contains(
            &"/components/40/components/3: bom-ref \"ds:3\" is not unique (also at /components/40/components/30)"
                .to_string()
        ),
        "{problems:#?}"
    );
}

#[test]
fn streaming_and_whole_tree_checks_agree_on_mutated_boms() {
    let base = generated(40);
    assert_eq!(same("as written", &base), Vec::<String>::new());
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "bad type",
            Box::new(|b| b["components"][7]["type"] = json!("spaceship")),
        ),
        (
            "bad hash",
            Box::new(|b| b["components"][3]["hashes"][0]["alg"] = json!("MD6")),
        ),
        (
            "repeated item",
            Box::new(|b| {
                let c = b["components"][5].clone();
                b["components"].as_array_mut().unwrap().push(c);
            }),
        ),
        (
            "1 and 1.0",
            Box::new(|b| {
                let mut c = b["components"][5].clone();
                b["components"][5]["x"] = json!(1);
                c["x"] = json!(1.0);
                b["components"].as_array_mut().unwrap().push(c);
            }),
        ),
        (
            "1 and 2",
            Box::new(|b| {
                let mut c = b["components"][5].clone();
                b["components"][5]["x"] = json!(1);
                c["x"] = json!(2);
                b["components"].as_array_mut().unwrap().push(c);
            }),
        ),
        (
            "repeated dependency",
            Box::new(|b| {
                let d = b["dependencies"][9].clone();
                b["dependencies"].as_array_mut().unwrap().push(d);
            }),
        ),
        (
            "dangling and repeated refs",
            Box::new(|b| {
                b["dependencies"][0]["dependsOn"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("ghost"));
                b["dependencies"][12]["ref"] = json!("nowhere");
                b["components"][20]["bom-ref"] = json!("file:3");
                b["metadata"]["component"]["bom-ref"] = json!("file:4");
                b["dependencies"][3]["dependsOn"] = json!(["urn:cdx:x/1#y"]);
            }),
        ),
        (
            "card on a file",
            Box::new(|b| b["components"][2]["modelCard"] = json!({})),
        ),
        (
            "nested components",
            Box::new(|b| {
                b["components"][4]["components"] = json!([{"type": "file", "name": "n",
                "bom-ref": "file:6", "modelCard": {}, "provides": ["file:1", "p"]}]);
            }),
        ),
        (
            "no bomFormat",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("bomFormat");
                b["components"][1]["type"] = json!(7);
            }),
        ),
        (
            "unknown members",
            Box::new(|b| {
                b["zzz"] = json!(1);
                b["aaa"] = json!(2);
                b["components"][1]["name"] = json!(7);
                b["dependencies"][1]["ref"] = json!(7);
            }),
        ),
        (
            "errors everywhere",
            Box::new(|b| {
                b["serialNumber"] = json!("not-a-uuid");
                b["version"] = json!(0);
                b["metadata"]["timestamp"] = json!(5);
                b["components"][0]["hashes"] = json!("x");
                b["dependencies"][2]["dependsOn"] = json!("x");
                b["externalReferences"] = json!([{"type": "website"}, {"url": "u"}]);
                b["services"] = json!([{"name": 1}, {"name": 1}]);
                b["properties"] = json!([{"name": 3}]);
                b["bom-ref"] = json!("root");
            }),
        ),
        (
            "more than 200",
            Box::new(|b| {
                for i in 0..40 {
                    for k in [
                        "version",
                        "group",
                        "publisher",
                        "author",
                        "description",
                        "scope",
                    ] {
                        b["components"][i][k] = json!(1);
                    }
                }
                b["serialNumber"] = json!(1);
                b["zzz"] = json!(1);
            }),
        ),
        (
            "components not an array",
            Box::new(|b| b["components"] = json!({"a": 1})),
        ),
        (
            "dependencies null",
            Box::new(|b| b["dependencies"] = json!(null)),
        ),
        (
            "empty components",
            Box::new(|b| b["components"] = json!([])),
        ),
        ("spec 1.5", Box::new(|b| b["specVersion"] = json!("1.5"))),
        (
            "no spec",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("specVersion");
            }),
        ),
        (
            "root bom-ref used",
            Box::new(|b| {
                b["bom-ref"] = json!("file:1");
                b["ref"] = json!("r");
                b["dependsOn"] = json!(["file:2", "q"]);
            }),
        ),
        (
            "dataset: problems inside nested components",
            Box::new(|b| {
                dataset(b, 30);
                let ds = &mut b["components"][40]["components"];
                ds[4]["type"] = json!("spaceship");
                ds[9]["hashes"][0]["alg"] = json!("MD6");
                ds[2]["components"][1]["name"] = json!(7);
                ds[2]["components"][0]["modelCard"] = json!({});
                ds[7]["zzz"] = json!(1);
                b["components"][40]["version"] = json!(1);
            }),
        ),
        (
            "dataset: a repeated nested component",
            Box::new(|b| {
                dataset(b, 30);
                let ds = b["components"][40]["components"].as_array_mut().unwrap();
                let c = ds[3].clone();
                ds.push(c);
                let deep = ds[2]["components"].as_array_mut().unwrap();
                let c = deep[0].clone();
                deep.push(c);
            }),
        ),
        (
            "dataset: 1 and 1.0 nested",
            Box::new(|b| {
                dataset(b, 30);
                let ds = b["components"][40]["components"].as_array_mut().unwrap();
                let mut c = ds[3].clone();
                ds[3]["x"] = json!(1);
                c["x"] = json!(1.0);
                ds.push(c);
            }),
        ),
        (
            "dataset: dangling and repeated refs",
            Box::new(|b| {
                dataset(b, 30);
                b["dependencies"][0]["dependsOn"]
                    .as_array_mut()
                    .unwrap()
                    .extend([json!("ds:ghost"), json!("ds:3"), json!("ds:2/1")]);
                let ds = &mut b["components"][40]["components"];
                ds[5]["bom-ref"] = json!("file:3");
                ds[2]["components"][0]["bom-ref"] = json!("ds:7");
                ds[11]["modelCard"] =
                    json!({"modelParameters": {"datasets": [{"ref": "ds:1"}, {"ref": "nowhere"}]}});
                ds[11]["type"] = json!("machine-learning-model");
                b["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"][0]["ref"] =
                    json!("ds:missing");
            }),
        ),
        (
            "dataset: nested not an array",
            Box::new(|b| {
                dataset(b, 3);
                b["components"][40]["components"][1]["components"] = json!({"a": 1});
                b["components"][40]["components"][0]["components"] = json!([1, "x", []]);
            }),
        ),
        (
            "dataset: more than 200 nested",
            Box::new(|b| {
                dataset(b, 120);
                for i in 0..120 {
                    b["components"][40]["components"][i]["version"] = json!(1);
                    b["components"][40]["components"][i]["scope"] = json!(2);
                }
                b["components"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": 1, "name": "late"}));
                b["zzz"] = json!(1);
            }),
        ),
    ];
    for (what, mutate) in &mutations {
        let mut bom = base.clone();
        mutate(&mut bom);
        let problems = same(what, &bom);
        assert!(!problems.is_empty(), "{what}");
    }
    for other in [
        json!([]),
        json!("bom"),
        json!(null),
        json!([{"bomFormat": 1}]),
    ] {
        same("not an object", &other);
    }
}

#[test]
fn the_same_refusals_as_the_whole_document_parse() {
    let bom = serde_json::to_string_pretty(&generated(30)).unwrap();
    let dup_in_item = bom.replacen(
        "\"name\": \"d/17.bin\",",
        "\"name\": \"d/17.bin\", \"name\": \"x\",",
        1,
    );
    let dup_top = bom.replacen("\"version\": 1,", "\"version\": 1, \"version\": 1,", 1);
    let dup_metadata = bom.replacen("\"name\": \"m\"", "\"name\": \"m\", \"name\": \"m\"", 1);
    let deep_item = bom.replacen(
        "\"name\": \"d/3.bin\",",
        &format!("\"x\": {}{},", "[".repeat(98), "]".repeat(98)),
        1,
    );
    let deeper_item = bom.replacen(
        "\"name\": \"d/3.bin\",",
        &format!("\"x\": {}{},", "[".repeat(2000), "]".repeat(2000)),
        1,
    );
    let fits = bom.replacen(
        "\"name\": \"d/3.bin\",",
        &format!("\"x\": {}{},", "[".repeat(97), "]".repeat(97)),
        1,
    );
    let mut marked = generated(30);
    marked["dependencies"][0]["dependsOn"][2] = json!("MARK");
    marked["dependencies"][0]["zz"] = json!("DUP");
    let marked = serde_json::to_string_pretty(&marked).unwrap();
    let dup_in_dependency = marked.replacen("\"zz\": \"DUP\"", "\"ref\": \"x\"", 1);
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let deep_depends_on = marked.replacen("\"MARK\"", &nested(97), 1);
    let fits_depends_on = marked.replacen("\"MARK\"", &nested(96), 1);
    // Components nested in components, n deep, the innermost with `last`.
    let chain = |n: usize, last: &str| {
        let open = r#"[{"type": "file", "name": "n", "components": "#;
        format!("{}[{{{last}}}]{}", open.repeat(n), "}]".repeat(n))
    };
    let in_item = |text: String| bom.replacen("\"name\": \"d/3.bin\",", &text, 1);
    let plain = r#""type": "file", "name": "x""#;
    let dup = r#""type": "file", "name": "x", "name": "y""#;
    let cases = [
        in_item(format!(
            "\"name\": \"d/3.bin\", \"components\": {},",
            chain(3, dup)
        )),
        in_item(format!("\"components\": {},", chain(47, plain))),
        in_item(format!("\"components\": {},", chain(48, plain))),
        in_item(format!("\"components\": {},", chain(48, "\"x\": [[]]"))),
        dup_in_dependency,
        deep_depends_on,
        fits_depends_on,
        dup_in_item,
        dup_top,
        dup_metadata,
        deep_item,
        deeper_item,
        fits,
        bom[..bom.len() / 2].to_string(),
        format!("{bom}x"),
        format!("{bom}{{}}"),
        bom.replacen("\"type\": \"file\"", "\"type\": file", 1),
        String::new(),
        "<bom/>".into(),
    ];
    for (i, case) in cases.iter().enumerate() {
        let (old, new) = both(case.as_bytes());
        assert_eq!(old, new, "case {i}");
    }
    assert!(
        matches!(both(cases[0].as_bytes()).0, Err(e) if e.contains("$.components[3].components[0].components[0].components[0]"))
    );
    assert!(matches!(both(cases[1].as_bytes()).0, Ok(p) if !p.is_empty()));
    assert!(matches!(both(cases[3].as_bytes()).0, Err(e) if e.contains("deeper")));
    assert!(matches!(both(cases[4].as_bytes()).0, Err(e) if e.contains("$.dependencies[0]")));
    let (old, _) = both(cases[7].as_bytes());
    assert_eq!(
        old,
        Err(StrictJsonError::DuplicateKey {
            key: "name".into(),
            path: "$.components[17]".into()
        }
        .to_string())
    );
}

#[test]
fn a_problem_deep_in_a_large_bom_is_located_exactly() {
    let mut bom = generated(10_000);
    bom["components"][5000]["hashes"][0]["alg"] = json!("MD6");
    let bytes = serde_json::to_vec(&bom).unwrap();
    let problems = check_bom_reader(bytes.as_slice()).unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("/components/5000/hashes/0/alg: "),
        "{problems:#?}"
    );
}

#[test]
fn repeated_items_are_named() {
    let mut bom = generated(100);
    let mut copy = bom["components"][42].clone();
    copy["x"] = json!(1.0);
    bom["components"][42]["x"] = json!(1);
    bom["components"].as_array_mut().unwrap().push(copy);
    let problems = check_bom_reader(serde_json::to_vec(&bom).unwrap().as_slice()).unwrap();
    assert!(
        problems.contains(
            &"/components: [... 101 items] has non-unique elements (/components/100 equals /components/42)"
                .to_string()
        ),
        "{problems:#?}"
    );
}

/// Small caps, so that the tests stay small.
const CAPS: Caps = Caps {
    item: 4096,
    rest: 64 << 10,
    refs: 1 << 20,
};

#[test]
fn an_item_or_the_rest_too_large_is_refused() {
    let mut bom = generated(3);
    bom["components"][1]["description"] = json!("x".repeat(CAPS.item as usize));
    let bytes = serde_json::to_vec(&bom).unwrap();
    match check_with_caps(bytes.as_slice(), CAPS) {
        Err(BomReadError::ItemTooLarge { place, max }) => {
            assert_eq!((place.as_str(), max), ("/components/1", CAPS.item));
        }
        other => panic!("{other:?}"),
    }
    // Under the cap (the separator before it included) is read.
    bom["components"][1]["description"] = json!("x".repeat(CAPS.item as usize - 200));
    let bytes = serde_json::to_vec(&bom).unwrap();
    check_with_caps(bytes.as_slice(), CAPS).unwrap();
    // Outside the arrays: the rest's cap.
    let mut bom = generated(3);
    bom["metadata"]["x"] = json!("y".repeat(CAPS.rest as usize));
    let bytes = serde_json::to_vec(&bom).unwrap();
    assert!(
        matches!(
            check_with_caps(bytes.as_slice(), CAPS),
            Err(BomReadError::RestTooLarge { max }) if max == CAPS.rest
        ),
        "rest"
    );
}

#[test]
fn items_may_add_up_past_the_rest_cap() {
    // Whitespace between items is the items' share, not the rest's.
    let mut text = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#);
    let pad = " ".repeat(CAPS.item as usize / 2);
    let items = 2 * CAPS.rest / CAPS.item + 4;
    for i in 0..items {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&pad);
        text.push_str(&format!(r#"{{"type":"file","name":"{i}"}}"#));
    }
    text.push_str("]}");
    assert!(text.len() as u64 > CAPS.rest);
    assert_eq!(
        check_with_caps(text.as_bytes(), CAPS).unwrap(),
        Vec::<String>::new()
    );
    // The same bytes outside the array are too many.
    let outside = text.replacen("\"components\":[", "\"x\":[", 1);
    assert!(matches!(
        check_with_caps(outside.as_bytes(), CAPS),
        Err(BomReadError::RestTooLarge { .. })
    ));
}

#[test]
fn the_golden_bom_reads_the_same_both_ways() {
    let golden = include_bytes!("../../../../../fixtures/golden/v0.1.0/tiny-model.cdx.json");
    let (old, new) = both(golden);
    assert_eq!(old, Ok(Vec::new()));
    assert_eq!(new, old);
    let mut bom: Value = serde_json::from_slice(golden).unwrap();
    bom["components"][0]["hashes"][0]["content"] = json!("short");
    bom["components"][1]["modelCard"] = json!({"x": 1});
    bom["metadata"]["component"]["bom-ref"] = bom["components"][0]["bom-ref"].clone();
    assert!(same("golden, edited", &bom).len() >= 3);
}

#[test]
fn a_dependency_on_every_file_is_read_past_the_item_cap() {
    // The model's dependency lists every file: larger than any one item may
    // be, read one string at a time; each string keeps the cap.
    let bom = generated(2000);
    let bytes = serde_json::to_vec(&bom).unwrap();
    assert!(bom["dependencies"][0].to_string().len() as u64 > CAPS.item);
    let wide = Caps {
        item: CAPS.item,
        rest: 1 << 20,
        refs: CAPS.refs,
    };
    assert_eq!(
        check_with_caps(bytes.as_slice(), wide).unwrap(),
        Vec::<String>::new()
    );
    let mut bom = bom;
    bom["dependencies"][0]["dependsOn"][7] = json!("z".repeat(CAPS.item as usize));
    let bytes = serde_json::to_vec(&bom).unwrap();
    match check_with_caps(bytes.as_slice(), wide) {
        Err(BomReadError::ItemTooLarge { place, .. }) => {
            assert_eq!(place, "/dependencies/0/dependsOn/7");
        }
        other => panic!("{other:?}"),
    }
    // The dependency's own bytes, outside its arrays, keep the cap too.
    bom["dependencies"][0]["dependsOn"][7] = json!("file:7");
    bom["dependencies"][0]["x"] = json!("z".repeat(CAPS.item as usize));
    let bytes = serde_json::to_vec(&bom).unwrap();
    match check_with_caps(bytes.as_slice(), wide) {
        Err(BomReadError::ItemTooLarge { place, .. }) => assert_eq!(place, "/dependencies/0"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dataset_is_read_past_the_item_cap_one_nested_component_at_a_time() {
    let mut bom = generated(2);
    let files: Vec<Value> = (0..200)
        .map(|i| json!({"type": "file", "bom-ref": format!("ds:{i}"), "name": format!("ds/{i}")}))
        .collect();
    bom["components"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "data", "bom-ref": "ds", "name": "ds", "components": files}));
    assert!(bom["components"][2].to_string().len() as u64 > CAPS.item);
    let bytes = serde_json::to_vec(&bom).unwrap();
    assert_eq!(
        check_with_caps(bytes.as_slice(), CAPS).unwrap(),
        Vec::<String>::new()
    );
    // A nested component keeps the cap, and is named.
    bom["components"][2]["components"][5]["components"] =
        json!([{"type": "file", "name": "x".repeat(CAPS.item as usize)}]);
    let bytes = serde_json::to_vec(&bom).unwrap();
    match check_with_caps(bytes.as_slice(), CAPS) {
        Err(BomReadError::ItemTooLarge { place, .. }) => {
            assert_eq!(place, "/components/2/components/5/components/0");
        }
        other => panic!("{other:?}"),
    }
    // The dataset's own bytes, outside its components, keep the cap too.
    bom["components"][2]["components"][5]
        .as_object_mut()
        .unwrap()
        .remove("components");
    bom["components"][2]["description"] = json!("z".repeat(CAPS.item as usize));
    let bytes = serde_json::to_vec(&bom).unwrap();
    match check_with_caps(bytes.as_slice(), CAPS) {
        Err(BomReadError::ItemTooLarge { place, .. }) => assert_eq!(place, "/components/2"),
        other => panic!("{other:?}"),
    }
}

/// A dependency whose `dependsOn` repeats one short reference without end,
/// and a BOM of many dangling references: the read stops at the reference
/// cap, before memory grows with them.
#[test]
fn references_past_the_cap_refuse_the_bom_before_memory_grows() {
    let mut bom = String::from(
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"dependencies":[{"ref":"a","dependsOn":["#,
    );
    for i in 0..5000 {
        if i > 0 {
            bom.push(',');
        }
        bom.push_str("\"a\"");
    }
    bom.push_str("]}]}");
    let caps = Caps {
        item: CAPS.item,
        rest: CAPS.rest,
        refs: 1000,
    };
    match check_with_caps(bom.as_bytes(), caps) {
        Err(BomReadError::TooManyReferences { max }) => assert_eq!(max, 1000),
        other => panic!("{:?}", other.map(|p| p.len())),
    }
    // Under the cap the same shape is checked: one uniqueItems problem.
    let wide = Caps {
        refs: 10_000,
        ..caps
    };
    let problems = check_with_caps(bom.as_bytes(), wide).unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p
                .contains("/dependencies/0/dependsOn: [... 5000 items] has non-unique elements")),
        "{problems:#?}"
    );
}

/// Many dangling references: the first 200 are listed, the rest counted.
#[test]
fn dangling_references_are_listed_up_to_the_cap_and_the_rest_counted() {
    let n = 700;
    let bom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "dependencies": (0..n).map(|i| json!({"ref": format!("nowhere-{i}")})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&bom).unwrap();
    for problems in [check_bom(&bom), check_bom_reader(bytes.as_slice()).unwrap()] {
        let dangling = problems
            .iter()
            .filter(|p| p.contains("resolves to no bom-ref"))
            .count();
        assert_eq!(
            dangling,
            crate::bom::refs::MAX_REF_PROBLEMS,
            "{problems:#?}"
        );
        assert_eq!(
            problems.last().unwrap(),
            "... and 500 more reference problems (the first 200 are listed)"
        );
    }
}
