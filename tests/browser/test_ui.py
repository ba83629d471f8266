"""Browser tests of `xmen ui`: a real headless Chromium (Debian's, driven by Playwright's
Python driver) against the real `xmen ui` over two sets made from empty temporary folders:

- the quickstart's set (train_toy, a 2x2 sweep of lr and epochs, run by `xmen run`), with the
  tensorboard hook added through `_hooks`, plus one long run that is still going;
- a generated set of 10,000 runs.

Environment: XMEN_BIN_DIR (the cargo profile folder holding `xmen`, the hook libraries and
`examples/train_toy`), CHROMIUM (the browser), UI_TEST_OUT (where screenshots go; default a
temporary folder). `bash scripts/ui-env.sh` installs chromium and this venv; scripts/test.sh
runs this file.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

BIN = Path(os.environ["XMEN_BIN_DIR"])
XMEN = str(BIN / "xmen")
TOKEN = "browser-test-token-0123456789"
OUT = Path(os.environ.get("UI_TEST_OUT") or tempfile.mkdtemp(prefix="xmen-ui-shots-"))
N_BIG = 10_000


def sh(args, env, **kw):
    r = subprocess.run(args, env=env, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{args}: {r.stdout}\n{r.stderr}"
    return r.stdout


def start_ui(env, *paths):
    """`xmen ui --port 0` in the background; returns the process and its URL (with the token)."""
    p = subprocess.Popen([XMEN, "ui", *paths, "--port", "0", "--token", TOKEN], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        line = p.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        if m:
            return p, m.group(1)
        if not line and p.poll() is not None:
            break
    p.kill()
    raise AssertionError(f"xmen ui did not print its URL: {p.stdout.read()}")


def signal_session(sid, sig):
    """Send `sig` to every process of session `sid` (the run we started: `xmen run`, its bash and
    the experiment, whatever process groups they make)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                os.kill(int(stat.parent.name), sig)
        except (OSError, IndexError, ValueError):
            pass


def lrs(i):
    return [0.1, 0.01, 0.001, 0.0001][i % 4]


def p3(i):
    return (i * 31 + 3) % 97


def big_params(root, i):
    status = ["finished", "error", "registered", "finished"][i % 4]
    lines = [f"_root: {root}", f"_status: {status}", "_purpose: generated", "_notes:", "_user: tester",
             "_host: testhost", "_timestamps:", f"  registered: 26-11-27-17-59-25-{i:06}", "_messages:",
             f"  loss: {1.0 / (i + 1)}", f"lr: {lrs(i)}", f"batch: {16 << (i % 3)}"]
    lines += [f"p{p}: {(i * 31 + p) % 97}" for p in range(6)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def work():
    d = Path(tempfile.mkdtemp(prefix="xmen-ui-browser-"))
    yield d
    subprocess.run(["rm", "-rf", str(d)])


@pytest.fixture(scope="session")
def big(work):
    """10,000 generated runs linked in their own $XMEN, and a server over them."""
    cfg = work / "cfg-big"
    cfg.mkdir()
    linked = []
    for i in range(N_BIG):
        f = work / "big" / f"set{i // 1000}" / f"lr={lrs(i)}__i={i}"
        f.mkdir(parents=True)
        (f / "params.yml").write_text(big_params(f, i))
        linked.append(f"- {f}")
    (cfg / "xmen.yml").write_text("linked:\n" + "\n".join(linked) + "\n")
    env = dict(os.environ, XMEN=str(cfg))
    p, url = start_ui(env)
    yield url
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)


@pytest.fixture(scope="session")
def quick(work):
    """The quickstart's set (with the tensorboard hook), run; a long run left going."""
    cfg = work / "cfg-quick"
    cfg.mkdir()
    env = dict(os.environ, XMEN=str(cfg))
    sh([XMEN, "hooks", "install", "--first-party"], env)
    root = work / "toy-sweep"
    sh([XMEN, "init", "-n", str(BIN / "examples" / "train_toy"), "-r", str(root), "--purpose", "quickstart sweep"], env)
    tb = "_hooks: [{hook: tensorboard, spec: 'loss@20s'}]"
    sh([XMEN, "register", "-r", str(root), "-u", "{lr: 0.1 | 0.01, epochs: 2 | 4, " + tb + "}"], env)
    sh([XMEN, "run", "-r", str(root), "*", "bash"], env, timeout=600)
    sh([XMEN, "register", "-r", str(root), "-n", "long", "-u",
        "{samples: 3000000, epochs: 1, _hooks: [{hook: tensorboard, spec: 'loss@20000s'}]}"], env)
    p, url = start_ui(env, str(root))
    yield {"url": url, "root": root, "env": env}
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=os.environ["CHROMIUM"], args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def chart_pixels(page, chart, name):
    """Screenshot the page and the chart's plot area; return how many coloured (line) pixels the
    plot area holds."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-page.png"), full_page=True)
    chart.scroll_into_view_if_needed()
    box = chart.locator("rect.plot-area").bounding_box()
    path = OUT / f"{name}-chart.png"
    page.screenshot(path=str(path), clip=box)
    img = Image.open(path).convert("RGB")
    return sum(1 for r, g, b in img.getdata() if max(r, g, b) - min(r, g, b) > 60)


def rows(page):
    return page.locator("#runs-table tbody tr")


def col(page, key):
    """The texts of the column whose flattened key is `key`, in row order."""
    heads = page.locator("#runs-table thead th")
    keys = [heads.nth(i).get_attribute("data-key") for i in range(heads.count())]
    i = keys.index(key)
    return [rows(page).nth(r).locator("td").nth(i).inner_text() for r in range(rows(page).count())]


def test_the_token_is_required(page, big):
    base = big.split("?")[0]
    r = page.goto(base)
    assert r.status == 401
    expect(page.locator("#token-required")).to_be_visible()
    page.goto(big)  # the token once: then the cookie
    page.goto(base)
    expect(page.locator("#runs-table")).to_be_visible()


def test_the_table_of_10000_runs_filters_sorts_and_pages(page, big):
    page.goto(big)
    expect(page.locator("#count")).to_have_text(str(N_BIG))
    expect(page.locator("#page")).to_contain_text("of 200")
    page.fill("#filter", "lr<0.01; p3>50")
    page.click("#apply")
    want = sum(1 for i in range(N_BIG) if lrs(i) < 0.01 and p3(i) > 50)
    expect(page.locator("#count")).to_have_text(str(want))
    assert all(float(v) < 0.01 for v in col(page, "lr"))
    assert all(int(v) > 50 for v in col(page, "p3"))
    page.screenshot(path=str(OUT / "table-filtered.png"), full_page=True)
    # Sort by p3: ascending, then descending.
    page.click("th[data-key=p3] a.sort")
    expect(page.locator("th[data-key=p3] a.sort")).to_contain_text("\u25b2")
    asc = [int(v) for v in col(page, "p3")]
    assert asc == sorted(asc) and asc[0] == 51
    page.click("th[data-key=p3] a.sort")
    expect(page.locator("th[data-key=p3] a.sort")).to_contain_text("\u25bc")
    desc = [int(v) for v in col(page, "p3")]
    assert desc == sorted(desc, reverse=True) and desc[0] == 96
    page.click(".pager a:text-is('next')")
    expect(page.locator("#page")).to_contain_text("page 2 of")
    page.select_option("#per", "200")
    expect(rows(page)).to_have_count(200)
    # Hide a column, then an error with its position.
    page.click("th[data-key=p3] a.hide")
    expect(page.locator("th[data-key=p3]")).to_have_count(0)
    page.fill("#filter", "lr=0.1")
    page.click("#apply")
    expect(page.locator("#filter-error")).to_contain_text("`=` is not a comparison")
    expect(page.locator("#filter-error")).to_contain_text("character 3")
    page.screenshot(path=str(OUT / "table-error.png"), full_page=True)


def test_a_run_page_shows_notes_and_adding_one_changes_params_yml(page, quick):
    root, env = quick["root"], quick["env"]
    run = sorted(p for p in root.iterdir() if p.name.startswith("lr=0.1__epochs=2"))[0]
    sh([XMEN, "note", "-r", str(root), run.name, "left by xmen note"], env)
    page.goto(quick["url"])
    page.click(f"a.run:text-is('{run.name}')")
    expect(page.locator("#notes")).to_contain_text("left by xmen note")
    expect(page.locator("#purpose")).to_have_text("quickstart sweep")
    expect(page.locator("#status .badge")).to_have_text("finished")
    expect(page.locator("#params")).to_contain_text("0.1")
    expect(page.locator("#hooks")).to_contain_text("tensorboard")
    expect(page.locator("#hooks-cost")).to_contain_text("tensorboard")
    expect(page.locator("#version")).to_contain_text("train_toy")
    expect(page.locator("#tail")).to_contain_text("loss")
    page.fill("#note-text", "added in the browser")
    page.click("#note-add")
    expect(page.locator("#notes")).to_contain_text("added in the browser")
    assert "added in the browser" in (run / "params.yml").read_text()
    page.locator("li", has_text="added in the browser").locator("button.remove-note").click()
    expect(page.locator("#notes")).not_to_contain_text("added in the browser")
    assert "added in the browser" not in (run / "params.yml").read_text()
    chart = page.locator(".chart-box[data-tag=loss] svg.chart")
    expect(chart.locator("polyline")).to_have_count(1)
    assert chart_pixels(page, chart, "run") > 100


def test_compare_shows_one_line_per_selected_run(page, quick):
    page.goto(quick["url"])
    names = [n for n in page.locator("a.run").all_inner_texts() if n.startswith("lr=")]
    assert len(names) == 4, names
    for n in names[:3]:
        page.locator("tr", has=page.locator(f"a.run:text-is('{n}')")).locator("input.pick").check()
    page.click("#compare")
    chart = page.locator(".chart-box[data-tag=loss] svg.chart")
    expect(chart.locator("polyline")).to_have_count(3)
    expect(page.locator("#legend .legend-item")).to_have_count(3)
    expect(page.locator("#legend")).to_contain_text("lr=")
    expect(page.locator("#scatter circle.dot")).to_have_count(3)
    assert chart_pixels(page, chart, "compare") > 100


def test_a_running_experiments_points_and_final_status_appear_without_reload(page, quick):
    root, env = quick["root"], quick["env"]
    run = root / "long"
    events = run / "summaries"
    proc = subprocess.Popen([XMEN, "run", "-r", str(root), "long", "bash"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Pause the run once it has written some points, so the page sees it running.
        deadline = time.time() + 300
        while time.time() < deadline:
            files = list(events.glob("events.out.tfevents.*")) if events.is_dir() else []
            if files and files[0].stat().st_size > 3000:
                break
            assert proc.poll() is None, "the long run ended before it could be watched"
            time.sleep(0.01)
        signal_session(proc.pid, signal.SIGSTOP)
        page.goto(quick["url"])
        page.goto(quick["url"].split("?")[0] + "run?path=" + urllib.parse.quote(str(run), safe=""))
        expect(page.locator("#status .badge")).to_have_text("running")
        line = page.locator(".chart-box[data-tag=loss] polyline")
        expect(line).to_have_count(1)
        before = len(line.get_attribute("points").split())
        page.evaluate("window.__notReloaded = true")
        signal_session(proc.pid, signal.SIGCONT)
        expect(page.locator("#status .badge")).to_have_text("finished", timeout=300_000)
        page.wait_for_function(
            "n => { const l = document.querySelector('.chart-box[data-tag=loss] polyline');"
            " return l && l.getAttribute('points').trim().split(/\\s+/).length > n }", arg=before, timeout=30_000)
        assert page.evaluate("window.__notReloaded") is True
        expect(page.locator("#messages")).to_contain_text("loss")
        expect(page.locator("#hooks-cost")).to_contain_text("tensorboard")
        assert chart_pixels(page, page.locator(".chart-box[data-tag=loss] svg.chart"), "live") > 100
    finally:
        signal_session(proc.pid, signal.SIGCONT)
        proc.wait(timeout=300)
