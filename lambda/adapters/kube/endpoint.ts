/**
 * A Kubernetes API server as the reader talks to it: its URL, the CA it must present, and how to
 * authenticate a request. kubeconfig contexts (`kubeconfig-endpoint.ts`) and EKS clusters
 * (`../eks/source.ts`) both come down to one of these, so one HTTPS client serves both, and the
 * deployed scanner, which reads EKS clusters only, carries no kubeconfig machinery.
 */
import type { Agent } from 'node:http';

export interface KubeEndpoint {
  /** `https://host[:port][/path]`: anything else is refused. */
  readonly server: string;
  /** The cluster CA (PEM). Without it, the platform's trusted CAs. */
  readonly ca?: Buffer;
  /** The name the server certificate must carry, when it is not the URL's host. */
  readonly tlsServerName?: string;
  /** A client certificate and key given once for the cluster (kubeconfig `client-certificate-data`). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /**
   * The credentials for the next request, asked before every request (implementations cache and
   * refresh: an EKS token is re-signed before it expires). Throws when they cannot be had.
   */
  credentials(): Promise<KubeCredentials>;
}

export interface KubeCredentials {
  /** Headers to send (`Authorization`, `Impersonate-User`, ...). */
  readonly headers: Readonly<Record<string, string>>;
  /** A client certificate handed out per request (an exec plugin's), when it differs from the endpoint's. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** A connection agent of the credentials' own: a proxy named by the kubeconfig. */
  readonly agent?: Agent;
}
