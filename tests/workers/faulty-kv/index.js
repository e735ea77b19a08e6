// KV with injectable faults, for the end-to-end tests of a slow or failing KV: the test stack
// binds a second api-multi's TOKENS_KV to this entrypoint (a service binding) instead of the
// namespace itself. Each operation first asks the emulator's KV fault point
// (`{EMULATOR_URL}/kv/{operation}/{key}`), so the emulator's faults (`/_emulator/faults`)
// reach KV: `error` fails the operation, `timeout` and `delay` make it slow. Then the real local
// namespace does the work.
//
// workers-rs takes a KV binding's methods off the object and runs them with
// `Function.prototype.call`. On a service binding `get.call(...)` is itself a remote call, to
// the path get → call, so each operation is a property whose `call` receives the binding first.
import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";

class Operation extends RpcTarget {
  constructor(env, name, run) {
    super();
    this.env = env;
    this.name = name;
    this.run = run;
  }

  async call(_binding, key, ...rest) {
    const point = `${this.env.EMULATOR_URL}/kv/${this.name}/${encodeURI(key)}`;
    const answer = await fetch(point);
    if (!answer.ok) {
      throw new Error(`KV ${this.name} ${key}: injected failure (${answer.status})`);
    }
    return this.run(key, ...rest);
  }
}

export class FaultyKv extends WorkerEntrypoint {
  get get() {
    return new Operation(this.env, "get", (key, options) => this.env.KV.get(key, options));
  }

  get put() {
    return new Operation(this.env, "put", (key, value, options) => this.env.KV.put(key, value, options));
  }

  get delete() {
    return new Operation(this.env, "delete", (key) => this.env.KV.delete(key));
  }
}

export default {
  fetch() {
    return new Response("Reached only through its FaultyKv entrypoint.", { status: 404 });
  },
};
