//! A generic directed acyclic graph over any node type, built on petgraph.
//! It knows nothing of resources: the configuration uses it for evaluation
//! order between declarations, and for the dependencies between resources.
//! Edges carry a label (for us: where the reference was written), so a
//! cycle can be reported edge by edge.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use petgraph::algo::tarjan_scc;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use petgraph::Direction;

/// A graph where an edge `a -> b` means "a depends on b".
///
/// Nodes are found through a hash index (this sits on the hot path of
/// checking ten thousand resources); everything that comes out in order —
/// nodes, edges, topological order, cycles — is sorted by node, so output
/// never depends on hashing.
#[derive(Debug, Clone)]
pub struct Dag<N: Ord + Hash + Clone, E: Clone> {
    graph: StableDiGraph<N, E>,
    index: HashMap<N, NodeIndex>,
}

impl<N: Ord + Hash + Clone, E: Clone> Default for Dag<N, E> {
    fn default() -> Self {
        Dag { graph: StableDiGraph::new(), index: HashMap::new() }
    }
}

impl<N: Ord + Hash + Clone, E: Clone> Dag<N, E> {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a node (once; adding it again is a no-op).
    pub fn add_node(&mut self, node: N) -> NodeIndex {
        if let Some(&i) = self.index.get(&node) {
            return i;
        }
        let i = self.graph.add_node(node.clone());
        self.index.insert(node, i);
        i
    }

    /// `from` depends on `to`. Both are added if missing; a repeated edge is
    /// kept once.
    pub fn add_edge(&mut self, from: N, to: N, label: E) {
        let a = self.add_node(from);
        let b = self.add_node(to);
        if self.graph.find_edge(a, b).is_none() {
            self.graph.add_edge(a, b, label);
        }
    }

    #[must_use]
    pub fn contains(&self, node: &N) -> bool {
        self.index.contains_key(node)
    }

    /// Every node, in order.
    pub fn nodes(&self) -> impl Iterator<Item = &N> {
        let mut nodes: Vec<&N> = self.graph.node_weights().collect();
        nodes.sort();
        nodes.into_iter()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Direct dependencies of `node`, in order.
    #[must_use]
    pub fn dependencies(&self, node: &N) -> Vec<&N> {
        self.neighbours(node, Direction::Outgoing)
    }

    /// Nodes that depend directly on `node`, in order.
    #[must_use]
    pub fn dependents(&self, node: &N) -> Vec<&N> {
        self.neighbours(node, Direction::Incoming)
    }

    fn neighbours(&self, node: &N, dir: Direction) -> Vec<&N> {
        let Some(&i) = self.index.get(node) else { return Vec::new() };
        let mut out: Vec<&N> = self.graph.neighbors_directed(i, dir).map(|j| &self.graph[j]).collect();
        out.sort();
        out
    }

    /// All edges as (from, to, label), ordered by node.
    #[must_use]
    pub fn edges(&self) -> Vec<(&N, &N, &E)> {
        let mut out: Vec<_> = (&self.graph)
            .edge_references()
            .map(|e| (&self.graph[e.source()], &self.graph[e.target()], e.weight()))
            .collect();
        out.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out
    }

    /// Every cycle, each as its edges in order (`a -> b`, `b -> c`, `c -> a`).
    /// One cycle is reported per strongly connected component, starting at
    /// its smallest node, so the output is deterministic.
    #[must_use]
    pub fn cycles(&self) -> Vec<Vec<(N, N, E)>> {
        let mut out = Vec::new();
        for component in tarjan_scc(&self.graph) {
            let is_cycle = component.len() > 1 || self.graph.find_edge(component[0], component[0]).is_some();
            if !is_cycle {
                continue;
            }
            let members: std::collections::BTreeSet<NodeIndex> = component.iter().copied().collect();
            let start = *component.iter().min_by(|a, b| self.graph[**a].cmp(&self.graph[**b])).unwrap_or(&component[0]);
            if let Some(path) = self.path_back_to(start, &members) {
                out.push(path);
            }
        }
        out.sort_by(|a, b| a.first().map(|e| &e.0).cmp(&b.first().map(|e| &e.0)));
        out
    }

    /// A shortest walk from `start` back to itself inside `members`.
    fn path_back_to(
        &self,
        start: NodeIndex,
        members: &std::collections::BTreeSet<NodeIndex>,
    ) -> Option<Vec<(N, N, E)>> {
        let mut previous: BTreeMap<NodeIndex, (NodeIndex, petgraph::stable_graph::EdgeIndex)> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut end_edge = None;
        'search: while let Some(n) = queue.pop_front() {
            let mut edges: Vec<_> = self.graph.edges_directed(n, Direction::Outgoing).collect();
            edges.sort_by(|a, b| self.graph[a.target()].cmp(&self.graph[b.target()]));
            for e in edges {
                let t = e.target();
                if !members.contains(&t) {
                    continue;
                }
                if t == start {
                    end_edge = Some((n, e.id()));
                    break 'search;
                }
                if let std::collections::btree_map::Entry::Vacant(v) = previous.entry(t) {
                    v.insert((n, e.id()));
                    queue.push_back(t);
                }
            }
        }
        let (mut at, last) = end_edge?;
        let mut edges = vec![last];
        while at != start {
            let (prev, e) = previous[&at];
            edges.push(e);
            at = prev;
        }
        edges.reverse();
        Some(
            edges
                .into_iter()
                .map(|e| {
                    let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
                    (self.graph[a].clone(), self.graph[b].clone(), self.graph[e].clone())
                })
                .collect(),
        )
    }

    /// Nodes ordered so every node comes after all its dependencies; ties
    /// broken by node order. `None` if there is a cycle.
    #[must_use]
    pub fn topological_order(&self) -> Option<Vec<N>> {
        let mut remaining: BTreeMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|i| (i, self.graph.neighbors_directed(i, Direction::Outgoing).count()))
            .collect();
        let mut ready: std::collections::BTreeSet<(N, NodeIndex)> =
            remaining.iter().filter(|(_, &deps)| deps == 0).map(|(&i, _)| (self.graph[i].clone(), i)).collect();
        let mut order = Vec::with_capacity(self.index.len());
        while let Some((node, i)) = ready.pop_first() {
            order.push(node);
            for dependent in self.graph.neighbors_directed(i, Direction::Incoming) {
                let count = remaining.get_mut(&dependent)?;
                *count -= 1;
                if *count == 0 {
                    ready.insert((self.graph[dependent].clone(), dependent));
                }
            }
        }
        (order.len() == self.index.len()).then_some(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_respects_dependencies() {
        let mut g: Dag<&str, ()> = Dag::new();
        g.add_edge("subnet", "vpc", ());
        g.add_edge("instance", "subnet", ());
        g.add_edge("instance", "sg", ());
        g.add_edge("sg", "vpc", ());
        assert_eq!(g.topological_order(), Some(vec!["vpc", "sg", "subnet", "instance"]));
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycles_are_reported_edge_by_edge() {
        let mut g: Dag<&str, u32> = Dag::new();
        g.add_edge("a", "b", 1);
        g.add_edge("b", "c", 2);
        g.add_edge("c", "a", 3);
        g.add_edge("d", "d", 4);
        g.add_edge("e", "a", 5);
        assert_eq!(g.topological_order(), None);
        assert_eq!(g.cycles(), vec![vec![("a", "b", 1), ("b", "c", 2), ("c", "a", 3)], vec![("d", "d", 4)]]);
    }
}
