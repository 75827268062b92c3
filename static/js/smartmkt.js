/*! smartmkt.js: the SmartMkt browser tracking snippet. No dependencies. Docs: docs/tracking.md
 *
 * smartmkt.init({writeKey, host, flushAt: 20, flushInterval: 5000, source: "web"})
 * smartmkt.page(name?, properties?)      smartmkt.track(event, properties?)
 * smartmkt.identify(userId, traits?)     smartmkt.alias(userId, previousId?)
 * smartmkt.productViewed({sku, ...})     smartmkt.productAdded / productRemoved({sku, ...})
 * smartmkt.searched(query)               smartmkt.checkoutStarted / orderCompleted(...)
 * smartmkt.flush()  smartmkt.reset()  smartmkt.optOut()  smartmkt.optIn()  smartmkt.on(name, fn)
 *
 * Delivery is at least once; the server stores each message_id once. Messages wait in a queue
 * kept in localStorage (one key per tab, adopted by the next page when the tab is gone), go out
 * in batches of up to `flushAt` or every `flushInterval` ms, are retried with exponential
 * back-off and jitter on network errors, 429 and 5xx with the SAME message ids, and are dropped
 * (console.warn) only when the server refuses them for good (another 4xx). When the page is
 * hidden or left, what is queued goes out with navigator.sendBeacon.
 */
(function (window, document) {
  "use strict";

  const existing = window.smartmkt;
  if (existing && existing.VERSION) return; // loaded twice: keep the first

  const VERSION = "1.0.0";
  const PREFIX = "smartmkt.";
  const QUEUE_PREFIX = PREFIX + "queue.";
  const COOKIE_MAX_AGE = 365 * 24 * 3600;
  const ORPHAN_AFTER_MS = 20000; // a tab that has not written its queue for this long is gone
  const BEACON_MAX_BYTES = 60000; // browsers cap beacons (and keepalive fetches) near 64 KB
  const BATCH_MAX_MESSAGES = 100; // the server takes 1,000 / 5 MB; smaller batches retry cheaper
  const BATCH_MAX_BYTES = 500000;
  const SESSION_TIMEOUT_MS = 30 * 60 * 1000; // a new session after 30 minutes without events

  const config = {
    writeKey: "",
    host: "",
    flushAt: 20,
    flushInterval: 5000,
    source: "web",
    maxQueueSize: 1000,
    retryBaseDelay: 1000,
    retryMaxDelay: 60000,
    autoPage: false,
    respectPrivacySignals: false,
  };

  // ---- storage: localStorage, a first-party cookie for the ids, memory when both fail ----
  const memory = {};
  function storageGet(key) {
    try {
      const value = window.localStorage.getItem(key);
      if (value !== null) return value;
    } catch (error) {
      // storage disabled (privacy mode, sandboxed frame): fall through to memory
    }
    return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
  }
  function storageSet(key, value) {
    memory[key] = value;
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      // full or disabled: the value lives in memory for this page
    }
  }
  function storageRemove(key) {
    delete memory[key];
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      // disabled: nothing stored there
    }
  }
  function cookieName(key) {
    return key.replace(/\W/g, "_");
  }
  function cookieGet(key) {
    const name = cookieName(key) + "=";
    const found = document.cookie.split("; ").find((part) => part.indexOf(name) === 0);
    return found ? decodeURIComponent(found.slice(name.length)) : null;
  }
  function cookieSet(key, value, maxAge) {
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      cookieName(key) + "=" + encodeURIComponent(value) +
      "; Max-Age=" + maxAge + "; Path=/; SameSite=Lax" + secure;
  }
  // Ids are kept in both places, so clearing one of them does not make a new visitor.
  function durableGet(key) {
    const value = storageGet(PREFIX + key) || cookieGet(PREFIX + key);
    if (value && storageGet(PREFIX + key) !== value) storageSet(PREFIX + key, value);
    return value;
  }
  function durableSet(key, value) {
    if (value === null) {
      storageRemove(PREFIX + key);
      cookieSet(PREFIX + key, "", 0);
    } else {
      storageSet(PREFIX + key, value);
      cookieSet(PREFIX + key, value, COOKIE_MAX_AGE);
    }
  }

  function uuid() {
    const crypto = window.crypto;
    if (crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    const bytes = new Uint8Array(16);
    if (crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const hex = Array.from(bytes, (byte) => (byte + 0x100).toString(16).slice(1)).join("");
    return [0, 8, 12, 16, 20].map((start, i, all) => hex.slice(start, all[i + 1])).join("-");
  }

  // ---- events for the page (the sandbox lists them): queued, sent, retry, dropped ----
  const listeners = {};
  function on(name, callback) {
    (listeners[name] = listeners[name] || []).push(callback);
    return api;
  }
  function emit(name, detail) {
    (listeners[name] || []).forEach((callback) => {
      try {
        callback(detail);
      } catch (error) {
        console.error("smartmkt: a '" + name + "' listener failed", error);
      }
    });
  }

  // ---- state ----
  const tabQueueKey = QUEUE_PREFIX + uuid();
  let queue = [];
  let initialized = false;
  let inFlight = false;
  let attempts = 0; // consecutive failed sends, for the back-off
  let flushTimer = null;
  let retryTimer = null;
  let pageLeft = false; // between pagehide and pageshow (back/forward cache)

  function optedOut() {
    if (durableGet("opt_out") === "1") return true;
    if (!config.respectPrivacySignals) return false;
    const navigator = window.navigator;
    return navigator.globalPrivacyControl === true || navigator.doNotTrack === "1";
  }
  function anonymousId() {
    let id = durableGet("anonymous_id");
    if (!id) {
      id = uuid();
      durableSet("anonymous_id", id);
    }
    return id;
  }
  function userId() {
    return durableGet("user_id");
  }
  function sessionId() {
    const now = Date.now();
    let id = storageGet(PREFIX + "session_id");
    if (!id || now - Number(storageGet(PREFIX + "session_seen") || 0) > SESSION_TIMEOUT_MS) id = uuid();
    storageSet(PREFIX + "session_id", id);
    storageSet(PREFIX + "session_seen", String(now));
    return id;
  }

  // ---- the persisted queue ----
  function persist() {
    if (!queue.length) {
      storageRemove(tabQueueKey);
      return;
    }
    // heartbeat 0 = this page is gone: the next page may adopt these messages at once
    storageSet(tabQueueKey, JSON.stringify({ heartbeat: pageLeft ? 0 : Date.now(), messages: queue }));
  }
  function readStoredQueue(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key));
    } catch (error) {
      return null;
    }
  }
  // Messages left by a reloaded, closed or crashed tab are sent by this one. Two tabs adopting
  // the same messages both send them; the server keeps one (same message_id).
  function adoptOrphanedQueues() {
    let keys = [];
    try {
      for (let i = 0; i < window.localStorage.length; i++) keys.push(window.localStorage.key(i));
    } catch (error) {
      return;
    }
    keys = keys.filter((key) => key && key.indexOf(QUEUE_PREFIX) === 0 && key !== tabQueueKey);
    const known = new Set(queue.map((message) => message.message_id));
    keys.forEach((key) => {
      const stored = readStoredQueue(key);
      if (stored && Date.now() - (stored.heartbeat || 0) < ORPHAN_AFTER_MS) return; // alive
      storageRemove(key);
      ((stored && stored.messages) || []).forEach((message) => {
        if (message && message.message_id && !known.has(message.message_id)) {
          known.add(message.message_id);
          queue.push(message);
        }
      });
    });
    capQueue();
    persist();
  }
  function capQueue() {
    const excess = queue.length - config.maxQueueSize;
    if (excess > 0) {
      const dropped = queue.splice(0, excess);
      console.warn("smartmkt: queue full, dropped the " + excess + " oldest event(s)");
      emit("dropped", { messages: dropped, reason: "queue full" });
    }
  }
  function removeFromQueue(messages) {
    const ids = new Set(messages.map((message) => message.message_id));
    queue = queue.filter((message) => !ids.has(message.message_id));
    persist();
  }

  // ---- building messages ----
  function campaign() {
    const found = {};
    new URLSearchParams(window.location.search).forEach((value, name) => {
      if (name.indexOf("utm_") === 0) found[name.slice(4) === "campaign" ? "name" : name.slice(4)] = value;
    });
    return Object.keys(found).length ? found : undefined;
  }
  function pageFacts() {
    const location = window.location;
    return {
      url: location.href,
      path: location.pathname,
      search: location.search,
      referrer: document.referrer,
      title: document.title,
    };
  }
  function context() {
    const screen = window.screen || {};
    return {
      page: pageFacts(),
      user_agent: window.navigator.userAgent,
      locale: window.navigator.language,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      screen: { width: screen.width, height: screen.height, density: window.devicePixelRatio },
      session_id: sessionId(),
      library: { name: "smartmkt.js", version: VERSION },
      campaign: campaign(),
    };
  }
  function enqueue(fields) {
    if (optedOut()) return api;
    const message = Object.assign(
      {
        message_id: uuid(),
        timestamp: new Date().toISOString(),
        anonymous_id: anonymousId(),
        user_id: userId() || undefined,
        source: config.source,
        context: context(),
      },
      fields
    );
    queue.push(message);
    capQueue();
    persist();
    emit("queued", { message: message, queued: queue.length });
    if (queue.length >= config.flushAt) send();
    else scheduleFlush(config.flushInterval);
    return api;
  }

  // ---- sending ----
  function endpoint() {
    return config.host.replace(/\/+$/, "") + "/api/v1/batch?key=" + encodeURIComponent(config.writeKey);
  }
  function body(messages) {
    const sentAt = new Date().toISOString(); // per attempt: the server corrects clock skew
    return JSON.stringify({ batch: messages.map((message) => Object.assign({}, message, { sent_at: sentAt })) });
  }
  const encoder = new TextEncoder();
  function byteLength(text) {
    return encoder.encode(text).length;
  }
  // The oldest messages that fit one request of at most `maxBytes` (UTF-8, with sent_at).
  function takeBatch(maxBytes, maxMessages) {
    const batch = [];
    let bytes = 12;
    for (const message of queue) {
      const size = byteLength(JSON.stringify(message)) + 45;
      if (batch.length && (bytes + size > maxBytes || batch.length >= maxMessages)) break;
      batch.push(message);
      bytes += size;
    }
    return batch;
  }
  function scheduleFlush(delay) {
    if (flushTimer || retryTimer) return;
    flushTimer = window.setTimeout(() => {
      flushTimer = null;
      send();
    }, delay);
  }
  function retryLater(batch, reason, retryAfterSeconds) {
    attempts += 1;
    // exponential back-off with "equal jitter": half fixed, half random, capped
    const ceiling = Math.min(config.retryMaxDelay, config.retryBaseDelay * Math.pow(2, attempts - 1));
    let delay = ceiling / 2 + Math.random() * (ceiling / 2);
    if (retryAfterSeconds > 0) delay = Math.max(delay, Math.min(retryAfterSeconds * 1000, config.retryMaxDelay));
    emit("retry", { messages: batch, reason: reason, attempt: attempts, delay: Math.round(delay) });
    window.clearTimeout(flushTimer);
    flushTimer = null;
    retryTimer = window.setTimeout(() => {
      retryTimer = null;
      send();
    }, delay);
  }
  function send() {
    if (inFlight || !initialized || !queue.length || optedOut()) return Promise.resolve();
    window.clearTimeout(flushTimer);
    flushTimer = null;
    const batch = takeBatch(BATCH_MAX_BYTES, BATCH_MAX_MESSAGES);
    const payload = body(batch);
    inFlight = true;
    return window
      .fetch(endpoint(), {
        method: "POST",
        // text/plain and no custom header: a "simple" CORS request, no preflight
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
        body: payload,
        credentials: "omit",
        keepalive: byteLength(payload) < BEACON_MAX_BYTES, // survives the page being left
      })
      .then(
        (response) => {
          if (response.ok) {
            attempts = 0;
            removeFromQueue(batch);
            return response.json().then(
              (result) => delivered(batch, result),
              () => delivered(batch, {})
            );
          }
          if (response.status === 429 || response.status >= 500) {
            retryLater(batch, "HTTP " + response.status, Number(response.headers.get("Retry-After")));
            return undefined;
          }
          return response.text().then((detail) => refused(batch, response.status, detail));
        },
        (error) => retryLater(batch, "network error: " + error.message, 0)
      )
      .catch((error) => console.error("smartmkt: handling the server's answer failed", error))
      .then(() => {
        inFlight = false;
        if (retryTimer) return;
        if (queue.length >= config.flushAt) send();
        else if (queue.length) scheduleFlush(config.flushInterval);
      });
  }
  function delivered(batch, result) {
    const rejected = result.rejected || [];
    rejected.forEach((item) =>
      console.warn("smartmkt: event " + item.message_id + " rejected (quarantined): " + item.reason)
    );
    emit("sent", { messages: batch, result: result, via: "fetch" });
  }
  function refused(batch, status, detail) {
    // 400/401/403/413: sending the same batch again cannot succeed
    attempts = 0;
    removeFromQueue(batch);
    console.warn("smartmkt: dropped " + batch.length + " event(s), server answered " + status + ": " + detail);
    emit("dropped", { messages: batch, reason: "HTTP " + status, detail: detail });
  }

  // The page is going away (or hidden, and may be killed): hand what is queued to the browser.
  // A beacon the browser accepted counts as sent; what it did not stays for the next page.
  function beaconFlush() {
    const navigator = window.navigator;
    if (queue.length && initialized && navigator.sendBeacon && !optedOut()) {
      while (queue.length) {
        const batch = takeBatch(BEACON_MAX_BYTES, BATCH_MAX_MESSAGES);
        const accepted = navigator.sendBeacon(endpoint(), new Blob([body(batch)], { type: "text/plain" }));
        if (!accepted) break;
        queue = queue.slice(batch.length);
        emit("sent", { messages: batch, result: null, via: "beacon" });
      }
    }
    persist();
  }

  // ---- the public API ----
  function init(options) {
    Object.keys(options || {}).forEach((name) => {
      if (name in config && options[name] !== undefined) config[name] = options[name];
    });
    if (!config.writeKey) console.warn("smartmkt: init needs a writeKey (an events:write key)");
    if (!config.host) {
      const script = document.currentScript || document.querySelector("script[src*='smartmkt.js']");
      config.host = script && script.src ? new URL(script.src).origin : window.location.origin;
    }
    if (!initialized) {
      initialized = true;
      window.setInterval(() => {
        if (queue.length) persist(); // heartbeat: this tab is alive
        adoptOrphanedQueues();
      }, ORPHAN_AFTER_MS / 4);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") beaconFlush();
      });
      window.addEventListener("pagehide", () => {
        pageLeft = true;
        beaconFlush();
      });
      window.addEventListener("pageshow", () => {
        pageLeft = false;
        persist();
      });
      window.addEventListener("online", () => flush());
    }
    adoptOrphanedQueues();
    if (config.autoPage) page();
    if (queue.length) scheduleFlush(0);
    return api;
  }
  function page(name, properties) {
    if (name && typeof name === "object") {
      properties = name;
      name = undefined;
    }
    return enqueue({ type: "page", name: name || document.title, properties: Object.assign(pageFacts(), properties) });
  }
  function track(event, properties) {
    return enqueue({ type: "track", event: event, properties: properties || {} });
  }
  function identify(id, traits) {
    if (optedOut()) return api;
    if (id && typeof id === "object") {
      traits = id;
      id = undefined;
    }
    if (id !== undefined && id !== null && id !== "") durableSet("user_id", String(id));
    return enqueue({ type: "identify", traits: traits || {} });
  }
  function alias(newId, previousId) {
    if (optedOut()) return api;
    const previous = previousId || userId() || anonymousId();
    durableSet("user_id", String(newId));
    return enqueue({ type: "alias", user_id: String(newId), previous_id: previous });
  }
  // A fresh visitor on this device (after sign-out): new anonymous id, no user id.
  function reset() {
    durableSet("user_id", null);
    durableSet("anonymous_id", null);
    return api;
  }
  // Stop tracking on this device: deletes the queue and the stored ids; remembered for a year.
  function optOut() {
    durableSet("opt_out", "1");
    durableSet("user_id", null);
    durableSet("anonymous_id", null);
    window.clearTimeout(flushTimer);
    window.clearTimeout(retryTimer);
    flushTimer = retryTimer = null;
    queue = [];
    persist();
    return api;
  }
  function optIn() {
    durableSet("opt_out", null);
    return api;
  }
  // Send now, skipping any back-off wait; resolves when the request is answered.
  function flush() {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    return send();
  }

  const api = {
    VERSION: VERSION,
    init: init,
    page: page,
    track: track,
    identify: identify,
    alias: alias,
    reset: reset,
    flush: flush,
    optOut: optOut,
    optIn: optIn,
    on: on,
    productViewed: (product) => track("Product Viewed", product),
    productAdded: (product) => track("Product Added", product),
    productRemoved: (product) => track("Product Removed", product),
    searched: (query, properties) => track("Products Searched", Object.assign({ query: query }, properties)),
    checkoutStarted: (properties) => track("Checkout Started", properties),
    orderCompleted: (order) => track("Order Completed", order),
    isOptedOut: optedOut,
    user: () => ({ anonymousId: anonymousId(), userId: userId() }),
    queued: () => queue.slice(),
  };

  window.smartmkt = api;
  // Calls the loader stub recorded before this file arrived, in order: [method, ...args].
  if (Array.isArray(existing)) {
    existing.forEach((call) => {
      if (call && typeof api[call[0]] === "function") api[call[0]].apply(api, call.slice(1));
    });
  }
})(window, document);
