//! One module per subcommand. Commands are peers: none imports another; what two of
//! them share lives below them in the crate (`session`, `lab`, `outputs`, `term`,
//! `report`, `metrics`, `connect`, ...).

pub mod compare;
pub mod demo;
pub mod instrument;
pub mod load_worker;
pub mod member;
pub mod player;
pub mod ports;
pub mod topic;
pub mod transports;
