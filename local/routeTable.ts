import type { RouteContract } from '../shared/http/route.js';

/** A route template split into segments, `{name}` ones capturing one path segment. */
interface CompiledRoute<T> {
  route: RouteContract;
  target: T;
  segments: readonly (string | { param: string })[];
}

export type RouteMatch<T> =
  | { kind: 'found'; route: RouteContract; target: T; pathParameters: Record<string, string> }
  | { kind: 'wrongMethod'; allowed: string[] }
  | { kind: 'notFound' }
  /** A segment with a malformed percent-escape. */
  | { kind: 'badPath' };

/**
 * Matches method and path against the catalog's route templates as HTTP API does: a `{param}`
 * matches exactly one segment, literal segments win over parameters, and parameters are
 * URL-decoded.
 */
export function createRouteTable<T>(entries: readonly { route: RouteContract; target: T }[]) {
  const compiled: CompiledRoute<T>[] = entries.map(({ route, target }) => ({
    route,
    target,
    segments: route.path
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : s)),
  }));
  // Routes with more literal segments first, so /sensors/mine would beat /sensors/{id}.
  compiled.sort((a, b) => b.segments.filter((s) => typeof s === 'string').length - a.segments.filter((s) => typeof s === 'string').length);

  return (method: string, rawPath: string): RouteMatch<T> => {
    const parts = rawPath.split('/').slice(1);
    const allowed: string[] = [];
    for (const candidate of compiled) {
      if (candidate.segments.length !== parts.length) continue;
      let pathParameters: Record<string, string> | undefined = {};
      for (let i = 0; i < parts.length && pathParameters; i++) {
        const segment = candidate.segments[i];
        if (typeof segment === 'string') {
          if (segment !== parts[i]) pathParameters = undefined;
        } else if (parts[i] === '') {
          pathParameters = undefined;
        } else {
          try {
            pathParameters[segment.param] = decodeURIComponent(parts[i]);
          } catch {
            return { kind: 'badPath' };
          }
        }
      }
      if (!pathParameters) continue;
      if (candidate.route.method === method) return { kind: 'found', route: candidate.route, target: candidate.target, pathParameters };
      allowed.push(candidate.route.method);
    }
    return allowed.length > 0 ? { kind: 'wrongMethod', allowed } : { kind: 'notFound' };
  };
}
