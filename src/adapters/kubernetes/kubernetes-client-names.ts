/**
 * The names of @kubernetes/client-node the Kubernetes adapter uses, listed once: kubernetes-cluster.ts types
 * its client as exactly these (a name missing here does not compile there), and
 * scripts/bundle-kubernetes-client.mjs bundles exactly these (it imports this file as compiled to dist/).
 * Keep this module free of imports, so the build script can load it on its own.
 */
export const KUBERNETES_CLIENT_NAMES = ['KubeConfig'] as const
