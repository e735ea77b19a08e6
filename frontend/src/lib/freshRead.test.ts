// The Connect callback's race, replayed with TanStack Query's own client: the plan banner starts
// a credentials read while the connection is being saved, and onboarding opens before it returns.

import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { afterEach, describe, expect, it } from "vitest";
import { readAfresh, readUnderWay } from "./freshRead";

type Answer = { stripeConnected: boolean };
const KEY = ["credentials"];

/** A query function whose answers the test releases one by one, in the order they were asked. */
function server() {
  const pending: Array<(answer: Answer) => void> = [];
  return {
    queryFn: () => new Promise<Answer>((resolve) => pending.push(resolve)),
    asked: () => pending.length,
    answer: (index: number, answer: Answer) => {
      const resolve = pending[index];
      if (!resolve) throw new Error(`request ${index} was never sent`);
      resolve(answer);
    },
  };
}

const clients: QueryClient[] = [];
function observe(client: QueryClient, queryFn: () => Promise<Answer>) {
  clients.push(client);
  const observer = new QueryObserver(client, { queryKey: KEY, queryFn, retry: false });
  const seen: Array<Answer | undefined> = [];
  const unsubscribe = observer.subscribe((result) => seen.push(result.data));
  return { observer, seen, unsubscribe };
}

afterEach(() => {
  for (const client of clients.splice(0)) client.clear();
});

describe("readAfresh", () => {
  it("does not hand back a first read that started before the page opened", async () => {
    const stripe = server();
    const client = new QueryClient();
    // The banner's read on the callback page: sent before the connection was saved.
    const banner = observe(client, stripe.queryFn);
    expect(stripe.asked()).toBe(1);
    // Onboarding opens while that read is still under way.
    const underWay = readUnderWay(client, KEY);
    expect(underWay).toBe(true);
    const page = observe(client, stripe.queryFn);
    const read = readAfresh(client, KEY, (options) => page.observer.refetch(options), underWay);
    expect(stripe.asked()).toBe(2);
    stripe.answer(1, { stripeConnected: true });
    stripe.answer(0, { stripeConnected: false });
    await read;
    expect(client.getQueryData(KEY)).toEqual({ stripeConnected: true });
    expect(page.observer.getCurrentResult().data).toEqual({ stripeConnected: true });
    // The banner saw no error and never the older answer.
    expect(banner.observer.getCurrentResult().isError).toBe(false);
    expect(banner.seen).not.toContainEqual({ stripeConnected: false });
    banner.unsubscribe();
    page.unsubscribe();
  });

  it("replaces a read under way when the query already holds an answer", async () => {
    const stripe = server();
    const client = new QueryClient();
    const banner = observe(client, stripe.queryFn);
    stripe.answer(0, { stripeConnected: false });
    await banner.observer.refetch();
    void banner.observer.refetch();
    expect(stripe.asked()).toBe(2);
    const read = readAfresh(client, KEY, (options) => banner.observer.refetch(options), readUnderWay(client, KEY));
    expect(stripe.asked()).toBe(3);
    stripe.answer(2, { stripeConnected: true });
    stripe.answer(1, { stripeConnected: false });
    await read;
    expect(client.getQueryData(KEY)).toEqual({ stripeConnected: true });
    banner.unsubscribe();
  });

  it("reads once when nothing is under way", async () => {
    const stripe = server();
    const client = new QueryClient();
    clients.push(client);
    const page = new QueryObserver(client, { queryKey: KEY, queryFn: stripe.queryFn, enabled: false });
    const read = readAfresh(client, KEY, (options) => page.refetch(options), readUnderWay(client, KEY));
    expect(stripe.asked()).toBe(1);
    stripe.answer(0, { stripeConnected: true });
    await read;
    expect(client.getQueryData(KEY)).toEqual({ stripeConnected: true });
  });

  it("shares the read the page's own query started as it opened", async () => {
    const stripe = server();
    const client = new QueryClient();
    // Nothing under way when the page renders; its query starts a read as it mounts.
    const underWay = readUnderWay(client, KEY);
    expect(underWay).toBe(false);
    const page = observe(client, stripe.queryFn);
    expect(stripe.asked()).toBe(1);
    const read = readAfresh(client, KEY, (options) => page.observer.refetch(options), underWay);
    expect(stripe.asked()).toBe(1);
    stripe.answer(0, { stripeConnected: true });
    await read;
    expect(client.getQueryData(KEY)).toEqual({ stripeConnected: true });
    page.unsubscribe();
  });
});
