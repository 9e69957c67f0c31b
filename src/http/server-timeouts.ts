import type { Server } from 'node:http';

/**
 * Idle keep-alive connections stay open longer than a load balancer's (HAProxy's and most cloud
 * balancers' idle timeout is 60 s), so the server never closes a connection the balancer, or a
 * client's pool, is about to reuse: that race is a reset request on the client's side. The header
 * timeout must exceed it, or Node closes such a connection first.
 */
export function applyServerTimeouts(server: Server): Server {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
