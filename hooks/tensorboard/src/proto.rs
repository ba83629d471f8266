//! The protobuf messages TensorBoard reads, declared with prost's derive (no protoc,
//! no build script). Field numbers follow TensorBoard's own `.proto` files
//! (`tensorboard/compat/proto/{event,summary,tensor,tensor_shape}.proto` and the
//! plugins' `plugin_data.proto`); only the fields we write are declared, which protobuf
//! allows: a reader ignores nothing it needs and we never read these back.
#![allow(missing_docs, clippy::doc_markdown)]

use prost::Message;

/// `tensorboard.Event`.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(oneof = "EventWhat", tags = "3, 5")]
    pub what: Option<EventWhat>,
}

/// The `what` oneof of [`Event`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum EventWhat {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorboard.Summary`.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorboard.Summary.Value`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
    #[prost(oneof = "ValueKind", tags = "2, 4, 5, 8")]
    pub value: Option<ValueKind>,
}

/// The `value` oneof of [`SummaryValue`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "4")]
    Image(Image),
    #[prost(message, tag = "5")]
    Histo(Histogram),
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorboard.Summary.Image`: an encoded PNG or GIF with its size.
#[derive(Clone, PartialEq, Message)]
pub struct Image {
    #[prost(int32, tag = "1")]
    pub height: i32,
    #[prost(int32, tag = "2")]
    pub width: i32,
    /// 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

/// `tensorboard.HistogramProto`.
#[derive(Clone, PartialEq, Message)]
pub struct Histogram {
    #[prost(double, tag = "1")]
    pub min: f64,
    #[prost(double, tag = "2")]
    pub max: f64,
    #[prost(double, tag = "3")]
    pub num: f64,
    #[prost(double, tag = "4")]
    pub sum: f64,
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// `tensorboard.SummaryMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    #[prost(string, tag = "2")]
    pub display_name: String,
    #[prost(string, tag = "3")]
    pub summary_description: String,
    /// `DataClass`: 1 scalar, 2 tensor, 3 blob sequence.
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// `tensorboard.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorboard.DataType` codes we write.
pub mod dtype {
    pub const FLOAT: i32 = 1;
    pub const INT32: i32 = 3;
    pub const UINT8: i32 = 4;
    pub const STRING: i32 = 7;
}

/// `tensorboard.TensorProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShape>,
    /// Raw little-endian element bytes.
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `tensorboard.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShape {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `tensorboard.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
pub struct Dim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

impl TensorShape {
    /// A shape from its dimensions.
    pub fn of(dims: &[i64]) -> TensorShape {
        TensorShape { dim: dims.iter().map(|&size| Dim { size }).collect() }
    }
}

/// `tensorboard.TextPluginData` (also the empty content of other version-0 plugins).
#[derive(Clone, PartialEq, Message)]
pub struct TextPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
}

/// `tensorboard.PrCurvePluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct PrCurvePluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(uint32, tag = "2")]
    pub num_thresholds: u32,
}

/// `tensorboard.mesh.MeshPluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct MeshPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(string, tag = "2")]
    pub name: String,
    /// 1 vertex, 2 face, 3 colour.
    #[prost(int32, tag = "3")]
    pub content_type: i32,
    #[prost(string, tag = "5")]
    pub json_config: String,
    #[prost(int32, repeated, tag = "6")]
    pub shape: Vec<i32>,
    /// Bit `1 << content_type` for each part present.
    #[prost(uint32, tag = "7")]
    pub components: u32,
}

/// `tensorboard.hparams.HParamsPluginData`.
#[derive(Clone, PartialEq, Message)]
pub struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    pub version: i32,
    #[prost(oneof = "HParamsData", tags = "2, 3, 4")]
    pub data: Option<HParamsData>,
}

/// The `data` oneof of [`HParamsPluginData`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum HParamsData {
    #[prost(message, tag = "2")]
    Experiment(Experiment),
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// `tensorboard.hparams.Experiment`.
#[derive(Clone, PartialEq, Message)]
pub struct Experiment {
    #[prost(double, tag = "3")]
    pub time_created_secs: f64,
    #[prost(message, repeated, tag = "4")]
    pub hparam_infos: Vec<HParamInfo>,
    #[prost(message, repeated, tag = "5")]
    pub metric_infos: Vec<MetricInfo>,
}

/// `tensorboard.hparams.HParamInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct HParamInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    /// `DataType`: 1 string, 2 bool, 3 float64.
    #[prost(int32, tag = "4")]
    pub r#type: i32,
}

/// `tensorboard.hparams.MetricInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricInfo {
    #[prost(message, optional, tag = "1")]
    pub name: Option<MetricName>,
}

/// `tensorboard.hparams.MetricName`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricName {
    #[prost(string, tag = "1")]
    pub group: String,
    #[prost(string, tag = "2")]
    pub tag: String,
}

/// `tensorboard.hparams.SessionStartInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    pub hparams: std::collections::BTreeMap<String, ProtoValue>,
    #[prost(string, tag = "4")]
    pub group_name: String,
    #[prost(double, tag = "5")]
    pub start_time_secs: f64,
}

/// `tensorboard.hparams.SessionEndInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionEndInfo {
    /// `Status`: 0 unknown, 1 success, 2 failure, 3 running.
    #[prost(int32, tag = "1")]
    pub status: i32,
    #[prost(double, tag = "2")]
    pub end_time_secs: f64,
}

/// `google.protobuf.Value`, restricted to the kinds a parameter can have.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoValue {
    #[prost(oneof = "ProtoKind", tags = "2, 3, 4")]
    pub kind: Option<ProtoKind>,
}

/// The `kind` oneof of [`ProtoValue`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ProtoKind {
    #[prost(double, tag = "2")]
    Number(f64),
    #[prost(string, tag = "3")]
    String(String),
    #[prost(bool, tag = "4")]
    Bool(bool),
}

/// Metadata naming a plugin and its content.
pub fn plugin_metadata(plugin: &str, content: Vec<u8>) -> SummaryMetadata {
    SummaryMetadata {
        plugin_data: Some(PluginData { plugin_name: plugin.into(), content }),
        display_name: String::new(),
        summary_description: String::new(),
        data_class: 0,
    }
}

/// Encode a message to bytes.
pub fn to_bytes(m: &impl Message) -> Vec<u8> {
    m.encode_to_vec()
}
