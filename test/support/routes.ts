import type Koa from 'koa';

export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Every route the app's routers register, read from the Koa app itself: each `router.routes()`
 * middleware carries its router (`.router`, part of @koa/router's types), and a router's `stack`
 * holds its layers, with the layers of routers mounted on it copied in. HEAD is left out (the router
 * adds it to every GET). Static files are not routes: `public/` is served from a fixed map.
 */
export function registeredRoutes(app: Koa): RouteEntry[] {
  const seen = new Set<string>();
  const routes: RouteEntry[] = [];
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: { stack: { methods: string[]; path: string | RegExp }[] } }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        const key = `${method} ${String(layer.path)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        routes.push({ method, path: String(layer.path) });
      }
    }
  }
  return routes;
}
