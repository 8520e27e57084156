// lamctl's Node.js runtime client: runs a Lambda handler against the Runtime API (2018-06-01)
// served by lamctl's local runtime, as Lambda's own Node.js runtime does.
//
// Why a client of lamctl's own: AWS's `aws-lambda-ric` npm package compiles native code (curl and
// aws-lambda-cpp, with autoconf, cmake, make and a C++ compiler) when it is installed, which fails on a
// machine without those tools. This file needs nothing but `node` (18 or later).
//
// What it does as Lambda does:
// * loads the handler named by _HANDLER ("dir/file.fn.nested") from LAMBDA_TASK_ROOT: file.js (CommonJS, or
//   an ES module under "type": "module"), file.mjs (ES module), file.cjs (CommonJS), else a package name;
//   load failures are Runtime.ImportModuleError, Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound or
//   Runtime.MalformedHandlerName, reported through /init/error;
// * async handlers (a returned promise) and callback handlers (event, context, callback), the latter answered
//   once the event loop is empty unless context.callbackWaitsForEmptyEventLoop is set to false;
// * the context object (awsRequestId, functionName, functionVersion, invokedFunctionArn, memoryLimitInMB,
//   logGroupName, logStreamName, identity, clientContext, getRemainingTimeInMillis(), succeed/fail/done);
// * errors answered as {errorType, errorMessage, trace} and logged as "Invoke Error";
// * console output as Lambda's text log lines: "<ISO time>\t<request id>\t<LEVEL>\t<message>";
// * an uncaught exception or an unhandled rejection logs the error and ends the process (exit status 129 /
//   128), which fails the invocation as Runtime.ExitError.
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import util from "node:util";

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // an idle kept-alive socket does not hold the event loop
let currentRequestId; // undefined outside an invocation, printed as "undefined" as Lambda does

// -- logging -----------------------------------------------------------------------------------------------

const write = (text) => process.stdout.write(text);
function logLine(level, args) {
  const message = util.format(...args);
  write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${message}\n`);
}
for (const [method, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"],
  ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[method] = (...args) => logLine(level, args);
}

// -- errors --------------------------------------------------------------------------------------------------

function toLambdaError(error, type) {
  if (error instanceof Error) {
    return {
      errorType: type || error.name || error.constructor?.name || "Error",
      errorMessage: error.message,
      trace: typeof error.stack === "string" ? error.stack.split("\n") : [],
    };
  }
  let message;
  try {
    message = typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
  } catch {
    message = String(error);
  }
  return { errorType: type || typeof error, errorMessage: message, trace: [] };
}

function logError(label, body) {
  const shown = { errorType: body.errorType, errorMessage: body.errorMessage, stack: body.trace };
  logLine("ERROR", [`${label} \t${JSON.stringify(shown)}`]);
}

// -- the Runtime API ---------------------------------------------------------------------------------------

function request(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const [host, port] = API.split(":");
    const req = http.request({ host, port: Number(port), method, path: BASE + urlPath, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) {
      req.setHeader("Content-Length", Buffer.byteLength(body));
      req.end(body);
    } else {
      req.end();
    }
  });
}

async function postError(urlPath, body) {
  await request("POST", urlPath, JSON.stringify(body), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": body.errorType,
  });
}

// -- loading the handler -------------------------------------------------------------------------------------

class LoadError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.lambdaType = type;
    if (cause?.stack) this.stack = `${type}: ${message}\n${cause.stack.split("\n").slice(1).join("\n")}`;
  }
}

function packageType(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8"));
      return pkg?.type === "module" ? "module" : "commonjs";
    } catch (e) {
      if (e.code !== "ENOENT" && e.code !== "ENOTDIR") return "commonjs";
    }
    if (path.dirname(d) === d) return "commonjs";
  }
}

async function importFile(file) {
  return import(pathToFileURL(file).href);
}

async function loadModule(root, moduleRoot, moduleName) {
  const base = path.resolve(root, moduleRoot, moduleName);
  const requireFrom = createRequire(path.join(root, moduleRoot, "index.js"));
  try {
    if (fs.existsSync(`${base}.js`)) {
      if (packageType(path.dirname(base)) === "module") return await importFile(`${base}.js`);
      try {
        return requireFrom(`${base}.js`);
      } catch (e) {
        if (e.code === "ERR_REQUIRE_ESM" || e.code === "ERR_REQUIRE_ASYNC_MODULE") return await importFile(`${base}.js`);
        throw e;
      }
    }
    if (fs.existsSync(`${base}.mjs`)) return await importFile(`${base}.mjs`);
    if (fs.existsSync(`${base}.cjs`)) return requireFrom(`${base}.cjs`);
    return requireFrom(moduleName); // a package on NODE_PATH or in node_modules
  } catch (e) {
    if (e instanceof SyntaxError) throw new LoadError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`, e);
    if (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND") {
      throw new LoadError("Runtime.ImportModuleError", `Error: ${e.message}`, e);
    }
    throw e;
  }
}

async function loadHandler() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const spec = process.env._HANDLER || "";
  const slash = spec.lastIndexOf("/");
  const moduleRoot = spec.slice(0, slash + 1);
  const rest = spec.slice(slash + 1);
  const dot = rest.indexOf(".");
  if (dot <= 0 || dot === rest.length - 1) {
    throw new LoadError("Runtime.MalformedHandlerName", "Bad handler");
  }
  const moduleName = rest.slice(0, dot);
  const mod = await loadModule(root, moduleRoot, moduleName);
  let fn = mod;
  for (const key of rest.slice(dot + 1).split(".")) {
    fn = fn == null ? undefined : fn[key];
  }
  // a CommonJS module imported as an ES module: its exports are under "default"
  if (typeof fn !== "function" && mod && mod.default) {
    fn = mod.default;
    for (const key of rest.slice(dot + 1).split(".")) fn = fn == null ? undefined : fn[key];
  }
  if (typeof fn !== "function") {
    throw new LoadError("Runtime.HandlerNotFound", `${rest} is undefined or not exported`);
  }
  return fn;
}

// -- invoking ---------------------------------------------------------------------------------------------------

function makeContext(headers, done) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const parse = (value) => {
    if (!value) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (result) => done(null, result, false),
    fail: (error) => done(error ?? "handled", undefined, false),
    done: (error, result) => done(error, result, false),
  };
}

function invoke(handler, event, headers) {
  return new Promise((resolve) => {
    let settled = false;
    let context;
    let idle; // the "beforeExit" listener waiting for an empty event loop, if any
    const answer = (error, result) => {
      if (idle) process.removeListener("beforeExit", idle);
      idle = undefined;
      resolve({ error, result });
    };
    const finish = (error, result, fromCallback) => {
      if (settled) return;
      settled = true;
      if (fromCallback && context.callbackWaitsForEmptyEventLoop) {
        // Lambda answers a callback once the event loop is empty
        if (idle) process.removeListener("beforeExit", idle);
        idle = () => answer(error, result);
        process.once("beforeExit", idle);
      } else {
        answer(error, result);
      }
    };
    context = makeContext(headers, finish);
    const callback = (error, result) => finish(error ?? null, result, true);
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      finish(error ?? "handled", undefined, false);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then((result) => finish(null, result, false), (error) => finish(error ?? "handled", undefined, false));
    } else if (!settled) {
      // no promise and no callback yet: Lambda answers null once the event loop is empty
      idle = () => finish(null, undefined, false);
      process.once("beforeExit", idle);
    }
  });
}

async function loop(handler) {
  for (;;) {
    const next = await request("GET", "/invocation/next");
    const headers = next.headers;
    const id = headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    if (headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
    else delete process.env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = JSON.parse(next.body.toString("utf8") || "null");
    } catch (error) {
      const body = toLambdaError(error, "Runtime.UnmarshalError");
      logError("Invoke Error", body);
      await postError(`/invocation/${id}/error`, body);
      continue;
    }
    const { error, result } = await invoke(handler, event, headers);
    if (error !== null && error !== undefined) {
      const body = toLambdaError(error);
      logError("Invoke Error", body);
      await postError(`/invocation/${id}/error`, body);
      continue;
    }
    let text;
    try {
      text = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = toLambdaError(e, "Runtime.SerializationError"); // e.g. a circular structure
      logError("Invoke Error", body);
      await postError(`/invocation/${id}/error`, body);
      continue;
    }
    await request("POST", `/invocation/${id}/response`, text, { "Content-Type": "application/json" });
  }
}

process.on("uncaughtException", (error) => {
  logError("Uncaught Exception", toLambdaError(error));
  process.exit(129);
});
process.on("unhandledRejection", (reason) => {
  const body = toLambdaError(reason);
  logError("Unhandled Promise Rejection", { ...body, errorType: "Runtime.UnhandledPromiseRejection" });
  process.exit(128);
});

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  const body = toLambdaError(error, error?.lambdaType);
  logError("Init Error", body);
  await postError("/init/error", body).catch(() => {});
  process.exit(129);
}
await loop(handler);
