"""Read event files back with the real TensorBoard and print what it sees as JSON.

Usage: python read_events.py LOGDIR [RUN_ROOT]
LOGDIR is a folder of event files (one run). With RUN_ROOT, also ask the HParams
plugin's backend what the HParams dashboard shows for every run under RUN_ROOT.
"""
import io
import json
import sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2 as hp_data
from tensorboard.plugins.mesh import plugin_data_pb2 as mesh_data
from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_data
from tensorboard.util import tensor_util



def proto_value(v):
    """A google.protobuf.Value as a Python scalar."""
    return getattr(v, v.WhichOneof("kind"))


logdir = sys.argv[1]
acc = EventAccumulator(logdir, size_guidance={k: 0 for k in ("scalars", "images", "histograms", "tensors")})
acc.Reload()
tags = acc.Tags()
out = {"tags": {k: v for k, v in tags.items() if isinstance(v, list)}, "scalars": {}, "histograms": {},
       "images": {}, "tensors": {}, "plugins": {}}

for tag in tags["scalars"]:
    out["scalars"][tag] = [[e.step, e.value] for e in acc.Scalars(tag)]

for tag in tags["histograms"]:
    out["histograms"][tag] = [
        {"step": e.step, "min": e.histogram_value.min, "max": e.histogram_value.max,
         "num": e.histogram_value.num, "sum": e.histogram_value.sum,
         "sum_squares": e.histogram_value.sum_squares,
         "limits": list(e.histogram_value.bucket_limit), "counts": list(e.histogram_value.bucket)}
        for e in acc.Histograms(tag)]

for tag in tags["images"]:
    items = []
    for e in acc.Images(tag):
        img = Image.open(io.BytesIO(e.encoded_image_string))
        item = {"step": e.step, "width": e.width, "height": e.height, "format": img.format,
                "decoded_size": list(img.size), "frames": getattr(img, "n_frames", 1)}
        if img.format == "PNG":
            item["pixels"] = np.asarray(img.convert("RGB")).tolist()
        items.append(item)
    out["images"][tag] = items

for tag in tags["tensors"]:
    md = acc.SummaryMetadata(tag)
    plugin = md.plugin_data.plugin_name
    events = acc.Tensors(tag)
    entry = {"plugin": plugin, "events": []}
    for e in events:
        arr = tensor_util.make_ndarray(e.tensor_proto)
        if arr.dtype.kind in "OSU":
            value = [x.decode() if isinstance(x, bytes) else str(x) for x in arr.reshape(-1)]
        else:
            value = arr.tolist()
        entry["events"].append({"step": e.step, "shape": list(arr.shape), "dtype": str(arr.dtype), "value": value})
    if plugin == "mesh":
        d = mesh_data.MeshPluginData.FromString(md.plugin_data.content)
        entry["mesh"] = {"name": d.name, "content_type": d.content_type, "shape": list(d.shape),
                         "components": d.components, "json_config": d.json_config}
    elif plugin == "pr_curves":
        entry["num_thresholds"] = pr_data.PrCurvePluginData.FromString(md.plugin_data.content).num_thresholds
    elif plugin == "hparams":
        d = hp_data.HParamsPluginData.FromString(md.plugin_data.content)
        which = d.WhichOneof("data")
        if which == "session_start_info":
            entry["hparams"] = {k: proto_value(v) for k, v in d.session_start_info.hparams.items()}
        elif which == "session_end_info":
            entry["status"] = d.session_end_info.status
        elif which == "experiment":
            entry["metrics"] = [m.name.tag for m in d.experiment.metric_infos]
    out["tensors"][tag] = entry


def pr_curve_numpy(labels, predictions, n):
    """TensorBoard's pr_curve.summary.pb, without TensorFlow."""
    bucket = np.int32(np.floor(np.asarray(predictions) * (n - 1)))
    lab = np.asarray(labels, dtype=float)
    tp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=lab)
    fp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=1.0 - lab)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float32).tolist()


if len(sys.argv) > 3:
    # argv[3]: JSON {labels, predictions, n}: the reference PR curve.
    ref = json.loads(sys.argv[3])
    out["pr_reference"] = pr_curve_numpy(ref["labels"], ref["predictions"], ref["n"])

if len(sys.argv) > 2 and sys.argv[2]:
    from tensorboard import context as tb_context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import backend_context

    root = sys.argv[2]
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(root)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, root)
    ctx = backend_context.Context(base_plugin.TBContext(logdir=root, multiplexer=mux, data_provider=provider))
    rctx = tb_context.RequestContext()
    md = ctx.hparams_metadata(rctx, "")
    exp = ctx.experiment_from_metadata(rctx, "", True, md, ctx.hparams_from_data_provider(rctx, "", None))
    sessions = {}
    for run, tag_to_content in md.items():
        c = tag_to_content.get("_hparams_/session_start_info")
        if c is not None:
            d = hp_data.HParamsPluginData.FromString(c).session_start_info
            sessions[run] = {k: proto_value(v) for k, v in d.hparams.items()}
    out["hparams_dashboard"] = {
        "hparams": sorted(h.name for h in exp.hparam_infos),
        "metrics": sorted(m.name.tag for m in exp.metric_infos),
        "sessions": sessions,
    }

json.dump(out, sys.stdout)
