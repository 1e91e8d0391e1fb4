// Package kubernetes holds no code: the directory holds the manifests that
// run rpcbench on a cluster (kubectl apply -k deploy/kubernetes), and the
// package's tests check them, so that they cannot drift from the
// Kubernetes API or from the rpcbench command line:
//
//   - every manifest decodes strictly into the k8s.io/api types (an
//     unknown or misspelt field is an error) and kustomization.yaml lists
//     every file;
//   - the server's and the workers' pods are Guaranteed with whole CPUs;
//   - Services select the pods they serve, and names, ports, keys and
//     volumes that one object gives another exist;
//   - every flag the containers pass exists in the rpcbench (and etcd)
//     binary, and the spec the coordinator runs parses;
//   - the containers' command lines, environment and volumes run a spec
//     together, as local processes: etcd, the server, the workers under
//     their pod names and the coordinator writing to the results claim;
//   - the Dockerfile at the root builds the image they expect: go.mod's Go,
//     rpcbench as the entrypoint, the pods' user.
//
// The k8s.io modules are linked by these tests only.
package kubernetes
