//! `#[derive(Experiment)]` and `#[experiment]` in-process: declared parameters, help, values,
//! validation and composition.

use std::collections::BTreeMap;

use xmen::{Experiment, ParamInfo, Parameters, Root, RunResult, Value};

/// A hello world experiment designed to demonstrate
///     defining experiments through the class experiment api
#[derive(Experiment)]
struct HelloWorld {
    /// The first argument
    #[param(default = "Hello")]
    a: String,
    /// The second argument
    #[param(default = "World")]
    b: String,
}

/// Every supported parameter type.
#[derive(Experiment)]
struct Types {
    /// A flag
    flag: bool,
    /// Epochs
    #[param(default = 10)]
    epochs: u32,
    #[param(default = -3)]
    offset: i64,
    /// The learning rate, a long help text that goes on and on so that it has to be wrapped at
    /// seventy columns
    #[param(default = 1e-3)]
    lr: f64,
    #[param(default = 0.5)]
    small: f32,
    #[param(default = Some("x".to_owned()))]
    maybe: Option<String>,
    #[param(default = vec![3, 4])]
    sizes: Vec<usize>,
    #[param(default = BTreeMap::from([("beta".to_owned(), 0.9)]))]
    opt: BTreeMap<String, f64>,
    #[param(default = Value::None, help = "Anything at all")]
    any: Value,
    /// Not a parameter
    #[param(skip)]
    cache: Vec<u8>,
    r#type: String,
}

/// Optimiser settings.
#[derive(Experiment)]
struct Optimizer {
    /// The learning rate
    #[param(default = 0.001)]
    lr: f64,
    /// Momentum
    #[param(default = 0.9)]
    momentum: f64,
}

/// Data settings.
#[derive(Experiment)]
struct Data {
    /// Batch size
    #[param(default = 32)]
    batch: usize,
}

/// Training, composed of parts.
#[derive(Experiment)]
struct Train {
    #[param(flatten, defaults(lr = 0.1))]
    opt: Optimizer,
    /// Passes over the data
    #[param(default = 5)]
    epochs: u64,
    #[param(flatten)]
    data: Data,
}

/// Nested composition: a part that itself has parts.
#[derive(Experiment)]
struct Outer {
    #[param(flatten, defaults(batch = 8, momentum = 0.5))]
    train: Train,
    /// A name
    #[param(default = "run")]
    name: String,
}

/// An experiment without parameters.
#[derive(Experiment)]
struct Empty;

/// A bad override: the value has the wrong type for the part's parameter.
#[derive(Experiment)]
struct BadOverride {
    #[param(flatten, defaults(batch = "big"))]
    data: Data,
}

impl Experiment for HelloWorld {
    fn run(&mut self, _root: &Root) -> RunResult {
        Ok(())
    }
}

fn names<E: Parameters>() -> Vec<&'static str> {
    E::parameters().iter().map(|p| p.name).collect()
}

#[test]
fn fields_become_parameters_with_type_default_and_help() {
    assert_eq!(HelloWorld::NAME, "HelloWorld");
    assert_eq!(
        HelloWorld::DESCRIPTION,
        "A hello world experiment designed to demonstrate\n    defining experiments through the class experiment api"
    );
    let p = HelloWorld::parameters();
    assert_eq!(
        p[0],
        ParamInfo {
            name: "a",
            type_text: "String",
            default: Value::from("Hello"),
            help: "The first argument",
            owner: "HelloWorld"
        }
    );
    let lines: Vec<String> = Types::parameters().iter().map(ParamInfo::help_line).collect();
    assert_eq!(
        lines,
        [
            "flag: bool=False ~ A flag",
            "epochs: u32=10 ~ Epochs",
            "offset: i64=-3",
            "lr: f64=0.001 ~ The learning rate, a long help text that goes on and on so that it has to be wrapped at seventy columns",
            "small: f32=0.5",
            "maybe: Option<String>='x'",
            "sizes: Vec<usize>=[3, 4]",
            "opt: BTreeMap<String, f64>={'beta': 0.9}",
            "any: Value=None ~ Anything at all",
            "type: String=''",
        ]
    );
}

#[test]
fn the_help_block_groups_parts_and_wraps_at_70_columns() {
    let text = xmen::experiment::help_block::<Types>();
    assert!(
        text.contains(
            "     lr: f64=0.001 ~ The learning rate, a long help text that goes on\n       and on so that it has to be wrapped at seventy columns\n"
        ),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 70), "{text}");
    let text = xmen::experiment::help_block::<Train>();
    assert_eq!(
        text,
        "Training, composed of parts.\n\nParameters:\n  \n  Optimizer\n  ---------\n     lr: f64=0.1 ~ The learning rate\n     \
         momentum: f64=0.9 ~ Momentum\n  \n  Train\n  -----\n     epochs: u64=5 ~ Passes over the data\n  \n  Data\n  ----\n     \
         batch: usize=32 ~ Batch size"
    );
    assert_eq!(xmen::experiment::help_block::<Empty>(), "An experiment without parameters.");
}

#[test]
fn values_and_set_validate_rust_types() {
    let mut t = Types::from_defaults();
    assert_eq!(t.values().len(), 10);
    assert_eq!(t.set("epochs", &Value::Int(3)), Ok(true));
    assert_eq!(t.epochs, 3);
    assert_eq!(t.set("nope", &Value::Int(3)), Ok(false));
    assert_eq!(t.set("type", &Value::from("conv")), Ok(true));
    assert_eq!(t.r#type, "conv");
    let table = [
        ("epochs", Value::from("ten"), "parameter `epochs` expects u32 but got str `ten`"),
        ("epochs", Value::Int(-1), "parameter `epochs` expects u32 but got int `-1` (out of range for u32)"),
        ("maybe", Value::List(vec![]), "parameter `maybe` expects Option<String> but got list `[]`"),
        ("sizes", Value::List(vec![1.into(), "x".into()]), "parameter `sizes[1]` expects usize but got str `x`"),
        ("flag", Value::Int(1), "parameter `flag` expects bool but got int `1`"),
    ];
    for (name, v, want) in table {
        let err = t.set(name, &v).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(want), "{name}: {err}");
    }
    assert!(t.cache.is_empty());
    assert_eq!(t.set("cache", &Value::None), Ok(false), "skipped fields are not parameters");
}

#[test]
fn flattened_parts_merge_in_field_order_and_outer_defaults_win() {
    assert_eq!(names::<Train>(), ["lr", "momentum", "epochs", "batch"]);
    assert_eq!(names::<Outer>(), ["lr", "momentum", "epochs", "batch", "name"]);
    let o = Outer::from_defaults();
    assert_eq!((o.train.opt.lr, o.train.opt.momentum, o.train.data.batch), (0.1, 0.5, 8));
    let defaults: Vec<Value> = Outer::parameters().into_iter().map(|p| p.default).collect();
    assert_eq!(defaults, [0.1.into(), 0.5.into(), 5.into(), 8.into(), "run".into()]);
    let owners: Vec<&str> = Outer::parameters().iter().map(|p| p.owner).collect();
    assert_eq!(owners, ["Optimizer", "Optimizer", "Train", "Data", "Outer"]);
    let mut o = o;
    assert_eq!(o.set("batch", &Value::Int(64)), Ok(true));
    assert_eq!(o.train.data.batch, 64);
}

#[test]
#[should_panic(
    expected = "`BadOverride` overrides the default of `batch` in its field `data` with a value of the wrong type"
)]
fn an_override_of_the_wrong_type_panics_naming_the_field() {
    let _ = BadOverride::from_defaults();
}

/// Greets.
#[xmen::experiment]
fn greet(
    _root: &Root,
    #[param(default = "Hello", help = "the first argument")] a: String,
    #[param(default = 3)] times: u32,
) -> Result<(), std::io::Error> {
    if times == 0 {
        return Err(std::io::Error::other(format!("{a} zero times")));
    }
    Ok(())
}

/// Renamed.
#[xmen::experiment(name = Renamed)]
fn unit_body(root: &Root, #[param(default = true)] flag: bool) {
    let _ = (root, flag);
}

#[test]
fn functions_become_experiments_with_the_same_surface() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(Greet::NAME, "greet");
    assert_eq!(Greet::DESCRIPTION, "Greets.");
    assert_eq!(names::<Greet>(), ["a", "times"]);
    assert_eq!(
        xmen::experiment::help_block::<Greet>(),
        "Greets.\n\nParameters:\n    a: String='Hello' ~ the first argument\n    times: u32=3"
    );
    let root = Root::detached("greet")?;
    let mut g = Greet::from_defaults();
    assert!(g.run(&root).is_ok());
    g.set("times", &Value::Int(0))?;
    let err = g.run(&root).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(err, "Hello zero times");
    // the function itself is still there
    assert!(greet(&root, "x".into(), 1).is_ok());
    assert_eq!(Renamed::NAME, "unit_body");
    assert!(Renamed::from_defaults().run(&root).is_ok());
    Ok(())
}

#[test]
fn an_experiment_without_parameters_is_valid() {
    assert!(Empty::parameters().is_empty());
    let Empty = Empty::from_defaults();
    assert!(Empty.values().is_empty());
}
