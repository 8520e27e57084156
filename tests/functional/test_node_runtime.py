"""Node.js functions on the local runtime: lamctl's Runtime API client run by the node on the PATH.

CommonJS and ES modules, async and callback handlers, the context object, Lambda's error answers, a process
that dies mid-invocation, and the log lines; then the same functions through ``lamctl local invoke``,
``start-lambda`` and ``start-api``, and the TypeScript sample deployed on the local cloud.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
import urllib.request
from pathlib import Path

import boto3
import pytest

from lamctl.local.runtime.environment import Environment, FunctionSpec
from tests.functional.test_node_build import sample_copy
from tests.functional.test_runtime_environment import _leftovers

NODE = "nodejs20.x"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\S+)\t(INFO|WARN|ERROR|DEBUG|TRACE)\t(.*)$")

pytestmark = pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")),
                                reason="node and npm are not installed")


@pytest.fixture
def code(tmp_path):
    def write(files: dict[str, str], name: str = "fn") -> str:
        folder = tmp_path / name
        for rel, text in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return str(folder)

    yield write
    assert _leftovers(tmp_path) == [], "a function process outlived the test"


@pytest.fixture
def envs():
    made = []

    def make(folder: str, handler: str = "index.handler", **kw) -> Environment:
        kw.setdefault("timeout", 30.0)
        env = Environment(FunctionSpec(name="Fn", runtime=NODE, handler=handler, code_dir=folder,
                                       function_name="node-fn", memory_size=256, **kw))
        made.append(env)
        return env

    yield make
    for env in made:
        env.stop()


def answer(result) -> object:
    return json.loads(result.payload)


CONTEXT_CJS = """
    let calls = 0;
    console.log("loading", 1 + 1);
    exports.handler = async (event, context) => {
      calls += 1;
      console.log("event", event.n);
      console.warn("careful");
      console.error("bad", {a: 1});
      return {
        n: event.n, calls, pid: process.pid,
        requestId: context.awsRequestId, functionName: context.functionName,
        version: context.functionVersion, arn: context.invokedFunctionArn,
        memory: context.memoryLimitInMB, group: context.logGroupName, stream: context.logStreamName,
        remaining: context.getRemainingTimeInMillis(), waits: context.callbackWaitsForEmptyEventLoop,
        region: process.env.AWS_REGION, handler: process.env._HANDLER,
      };
    };
"""


def test_a_commonjs_async_handler_gets_lambdas_context_and_stays_warm(code, envs):
    env = envs(code({"index.js": CONTEXT_CJS}))
    first = env.invoke(b'{"n": 1}', request_id="11111111-2222-4333-8444-555555555555")
    assert first.ok, first.payload
    got = answer(first)
    assert got["n"] == 1 and got["calls"] == 1
    assert got["requestId"] == "11111111-2222-4333-8444-555555555555"
    assert got["functionName"] == "node-fn" and got["version"] == "$LATEST"
    assert got["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:node-fn"
    assert got["memory"] == "256" and got["group"] == "/aws/lambda/node-fn"
    assert got["stream"] == env.log_stream and got["stream"].endswith(f"[$LATEST]{env.id}")
    assert 0 < got["remaining"] <= 30_000 and got["waits"] is True
    assert got["region"] == "us-east-1" and got["handler"] == "index.handler"
    assert first.init_duration_ms is not None

    second = env.invoke(b'{"n": 2}')
    got2 = answer(second)
    assert got2["calls"] == 2 and got2["pid"] == got["pid"]  # warm: the same process, module state kept
    assert second.init_duration_ms is None


def test_log_lines_have_lambdas_node_format_with_the_request_id(code, envs):
    env = envs(code({"index.js": CONTEXT_CJS}))
    result = env.invoke(b'{"n": 7}', request_id="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    lines = result.log.splitlines()
    start = lines.index("START RequestId: aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee Version: $LATEST")
    init = [LOG_LINE.match(ln).groups() for ln in lines[:start]]
    assert init == [("undefined", "INFO", "loading 2")]  # init output: no request yet, as on Lambda
    own = [LOG_LINE.match(ln).groups() for ln in lines[start + 1:] if LOG_LINE.match(ln)]
    rid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    assert own == [(rid, "INFO", "event 7"), (rid, "WARN", "careful"), (rid, "ERROR", "bad { a: 1 }")]
    assert lines[-2] == f"END RequestId: {rid}" and lines[-1].startswith(f"REPORT RequestId: {rid}\t")


@pytest.mark.parametrize("files, handler", [
    ({"app.mjs": "export const handler = async (event) => ({ kind: 'mjs', got: event.x });"}, "app.handler"),
    ({"package.json": '{"type": "module"}',
      "src/app.js": "export async function handler(event) { return { kind: 'module js', got: event.x }; }"},
     "src/app.handler"),
    ({"lib/app.cjs": "module.exports.nested = { fn: async (event) => ({ kind: 'cjs', got: event.x }) };"},
     "lib/app.nested.fn"),
])
def test_es_modules_and_commonjs_files_load_as_on_lambda(code, envs, files, handler):
    env = envs(code(files), handler=handler)
    result = env.invoke(b'{"x": 5}')
    assert result.ok, result.payload
    assert answer(result)["got"] == 5


CALLBACKS = """
    exports.now = (event, context, callback) => {
      setTimeout(() => console.log("timer ran"), 200);
      context.callbackWaitsForEmptyEventLoop = event.wait;
      callback(null, { via: "callback" });
    };
    exports.fails = (event, context, callback) => callback(new TypeError("no good"));
    exports.sync = (event) => { console.log("sync ran"); };
"""


def test_a_callback_answers_once_the_event_loop_is_empty_unless_told_not_to_wait(code, envs):
    env = envs(code({"index.js": CALLBACKS}), handler="index.now")
    waited = env.invoke(b'{"wait": true}')
    assert answer(waited) == {"via": "callback"}
    assert "timer ran" in waited.log  # the pending timer ran before the answer

    env2 = envs(code({"index.js": CALLBACKS}, name="fn2"), handler="index.now")
    quick = env2.invoke(b'{"wait": false}')
    assert answer(quick) == {"via": "callback"}
    assert "timer ran" not in quick.log  # answered at once; the timer is still pending


def test_a_callback_error_and_a_handler_without_an_answer(code, envs):
    folder = code({"index.js": CALLBACKS})
    failed = envs(folder, handler="index.fails").invoke(b"{}")
    assert failed.error_type == "TypeError" and failed.function_error == "Unhandled"
    body = answer(failed)
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "no good"
    assert body["trace"][0] == "TypeError: no good" and any("index.js" in t for t in body["trace"])
    assert "\tERROR\tInvoke Error \t" in failed.log

    nothing = envs(folder, handler="index.sync").invoke(b"{}")
    assert nothing.ok and answer(nothing) is None and "sync ran" in nothing.log


def test_a_thrown_error_is_answered_in_lambdas_shape_and_the_environment_stays(code, envs):
    env = envs(code({"index.js": """
        class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError"; } }
        exports.handler = async (event) => {
          if (event.fail === "string") throw "plain text";
          if (event.fail) throw new ValidationError("bad input " + event.fail);
          return process.pid;
        };
    """}))
    pid = answer(env.invoke(b"{}"))
    failed = env.invoke(b'{"fail": "x"}')
    body = answer(failed)
    assert failed.error_type == "ValidationError"
    assert body["errorType"] == "ValidationError" and body["errorMessage"] == "bad input x"
    assert isinstance(body["trace"], list) and body["trace"][0].startswith("ValidationError: bad input x")
    text = answer(env.invoke(b'{"fail": "string"}'))
    assert text == {"errorType": "string", "errorMessage": "plain text", "trace": []}
    assert answer(env.invoke(b"{}")) == pid  # a handled error does not end the environment


@pytest.mark.parametrize("body, status", [
    ("setTimeout(() => { throw new Error('late boom'); }, 0); await new Promise(r => setTimeout(r, 60000));",
     "exit status 129"),
    ("process.exit(3);", "exit status 3"),
    ("Promise.reject(new Error('nobody waits')); await new Promise(r => setTimeout(r, 60000));", "exit status 128"),
])
def test_an_uncaught_exception_or_process_exit_fails_the_invocation_as_runtime_exit_error(code, envs, body, status):
    env = envs(code({"index.mjs": f"export const handler = async () => {{ {body} }};"}))
    result = env.invoke(b"{}")
    assert result.error_type == "Runtime.ExitError"
    assert answer(result)["errorType"] == "Runtime.ExitError" and status in answer(result)["errorMessage"]
    if "boom" in body:
        assert "\tERROR\tUncaught Exception \t" in result.log and "late boom" in result.log
    assert env.dead  # the next invocation gets a fresh environment


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"index.js": "exports.other = () => 1;"}, "index.handler", "Runtime.HandlerNotFound",
     "index.handler is undefined or not exported"),
    ({"index.js": "exports.handler = () => 1;"}, "missing.handler", "Runtime.ImportModuleError",
     "Cannot find module 'missing'"),
    ({"index.js": "exports.handler = () => {;"}, "index.handler", "Runtime.UserCodeSyntaxError", "SyntaxError"),
    ({"index.js": "exports.handler = () => 1;"}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
    ({"index.js": "throw new RangeError('init failed');"}, "index.handler", "RangeError", "init failed"),
])
def test_a_handler_that_cannot_be_loaded_fails_init_as_lambda_says(code, envs, files, handler, error_type, message):
    env = envs(code(files), handler=handler)
    result = env.invoke(b"{}")
    assert result.error_type == error_type, result.payload
    assert message in answer(result)["errorMessage"]


def test_node_path_finds_a_layers_packages(code, envs):
    layer = code({"nodejs/node_modules/greeter/index.js": "module.exports = (n) => 'hi ' + n;"}, name="layer")
    env = envs(code({"index.js": "const g = require('greeter'); exports.handler = async (e) => g(e.name);"}),
               layer_dirs=(layer,))
    assert answer(env.invoke(b'{"name": "ann"}')) == "hi ann"


# -- through the command line ---------------------------------------------------------------------------------

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: {runtime}
      Events:
        Get:
          Type: HttpApi
          Properties: {{Path: "/hello/{{name}}", Method: get}}
"""

APP = """\
export const handler = async (event, context) => {
  console.log("hello", event.pathParameters?.name ?? event.name);
  return { statusCode: 200, body: JSON.stringify({ hello: event.pathParameters?.name ?? event.name }) };
};
"""


def node_major() -> int:
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


def project(tmp_path: Path, runtime: str = NODE) -> Path:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "app.mjs").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(runtime=runtime))
    return tmp_path


def test_local_invoke_runs_a_node_function(cli, tmp_path):
    folder = project(tmp_path, f"nodejs{node_major()}.x")
    r = cli("local", "invoke", "Hello", "-e", "-", cwd=folder, stdin='{"name": "cli"}')
    assert r.exit_code == 0, r
    assert json.loads(json.loads(r.stdout)["body"]) == {"hello": "cli"}
    assert re.search(r"Z\t[0-9a-f-]{36}\tINFO\thello cli", r.stderr), r.stderr
    assert "locally it runs on the node" not in r.stderr


def test_a_node_other_than_the_declared_one_is_warned_about(cli, tmp_path):
    other = node_major() + 2
    folder = project(tmp_path, f"nodejs{other}.x")
    r = cli("local", "invoke", "Hello", cwd=folder)
    assert r.exit_code == 0, r
    assert r.stderr.count(f"Hello declares nodejs{other}.x; locally it runs on the node on the PATH, v") == 1


def test_without_node_on_the_path_local_invoke_says_what_to_install(cli, tmp_path, monkeypatch):
    folder = project(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("local", "invoke", "Hello", cwd=folder)
    assert r.exit_code == 2, r
    assert "needs node" in r.stderr and "install Node.js" in r.stderr


def test_start_lambda_and_start_api_serve_a_node_function(tmp_path):
    from lamctl.local.runtime.functions import TemplateFunctions
    from lamctl.local.runtime.invoke_api import InvokeServer
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda
    from lamctl.local.runtime.start_api import ApiServer, routes_of

    folder = project(tmp_path)
    fns = TemplateFunctions(str(folder / "template.yaml"), build_dir=str(folder / ".build"))
    service = LocalLambda(fns, Pool(idle_timeout=None))
    invoke = InvokeServer(service, "127.0.0.1", 0, log=lambda _: None).start()
    routes, _ = routes_of(fns.resources, fns.names())
    api = ApiServer(service, routes, port=0, log=lambda _: None).start()
    try:
        client = boto3.client("lambda", endpoint_url=invoke.url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        resp = client.invoke(FunctionName="Hello", Payload=b'{"name": "sdk"}', LogType="Tail")
        assert resp["StatusCode"] == 200 and "FunctionError" not in resp
        assert json.loads(json.loads(resp["Payload"].read())["body"]) == {"hello": "sdk"}
        with urllib.request.urlopen(api.url + "/hello/web", timeout=60) as answer_:
            assert answer_.status == 200 and json.loads(answer_.read()) == {"hello": "web"}
    finally:
        api.close()
        invoke.close()
        service.close()


def test_the_typescript_sample_deployed_and_invoked_on_the_local_cloud(cli, local_cloud, tmp_path, monkeypatch):
    monkeypatch.setenv("npm_config_offline", "true")
    folder = sample_copy(tmp_path / "hello-node")
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy",
            "--stack", "hello-node", cwd=folder)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    (api,) = result["apis"]
    with urllib.request.urlopen(api["url"] + "hello/lamctl", timeout=60) as resp:
        assert resp.status == 200
        body = json.loads(resp.read())
    assert body["message"] == "hello lamctl" and body["timeout"].endswith("seconds")

    lam = local_cloud.client("lambda")
    name = next(f["FunctionName"] for f in lam.list_functions()["Functions"] if "HelloFunction" in f["FunctionName"])
    resp = lam.invoke(FunctionName=name, Payload=json.dumps({"pathParameters": {"name": "sdk"}}).encode())
    assert "FunctionError" not in resp
    assert json.loads(json.loads(resp["Payload"].read())["body"])["message"] == "hello sdk"
    assert shutil.which("node")


def test_start_lambda_watches_node_modules_through_npms_own_record(tmp_path):
    """An edit of the code reloads; a file inside node_modules is not stat-ed on every invocation, but an npm
    install (which rewrites node_modules/.package-lock.json) reloads."""
    import os

    from lamctl.local.runtime.functions import TemplateFunctions

    folder = project(tmp_path)
    modules = folder / "src" / "node_modules"
    (modules / "dep").mkdir(parents=True)
    (modules / "dep" / "index.js").write_text("module.exports = 1;\n")
    (modules / ".package-lock.json").write_text('{"packages": {}}\n')
    fns = TemplateFunctions(str(folder / "template.yaml"), build_dir=str(folder / ".build"))
    first = fns.refresh("Hello")
    assert fns.refresh("Hello") is first

    (modules / "dep" / "index.js").write_text("module.exports = 22;\n")  # not watched file by file
    assert fns.refresh("Hello") is first

    lock = modules / ".package-lock.json"
    lock.write_text('{"packages": {"node_modules/dep": {}}}\n')  # what npm install does
    assert fns.refresh("Hello") is not first
    second = fns.refresh("Hello")

    app = folder / "src" / "app.mjs"
    app.write_text(APP.replace("hello", "hi"))
    os.utime(app, (2_000_000_000, 2_000_000_000))
    assert fns.refresh("Hello") is not second
