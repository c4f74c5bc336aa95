"""The PyTorch engine of DSOD Studio (issue 12): builds the network of a graph JSON exported by
`dsod export --graph` (format dsod-graph, docs/graph-json.md) and runs it with Caffe's semantics.
Standard library + the PyTorch the user has; nothing is downloaded."""

GRAPH_FORMAT = "dsod-graph"
GRAPH_VERSION = 1
