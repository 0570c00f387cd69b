//! CIDR arithmetic behind `cidrsubnet` and `cidrhost`, on IPv4 networks.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// The `netnum`-th subnet of `prefix` with `newbits` more mask bits:
/// `cidrsubnet(10.0.0.0/16, 8, 1)` is `10.0.1.0/24`.
pub fn subnet(prefix: Ipv4Net, newbits: u32, netnum: u64) -> Result<Ipv4Net, String> {
    let new_len = u32::from(prefix.prefix_len()) + newbits;
    if new_len > 32 {
        return Err(format!(
            "{prefix} has a /{} mask; {newbits} more bits would make /{new_len}, past /32",
            prefix.prefix_len()
        ));
    }
    let count = 1u64 << newbits;
    if netnum >= count {
        return Err(format!(
            "{prefix} split by {newbits} bits has {count} subnets (0 to {}); {netnum} is past the end",
            count - 1
        ));
    }
    let base = u64::from(u32::from(prefix.network()));
    let offset = netnum << (32 - new_len);
    let addr = u32::try_from(base + offset).map_err(|_| "address overflow".to_string())?;
    #[allow(clippy::cast_possible_truncation)]
    Ipv4Net::new(Ipv4Addr::from(addr), new_len as u8).map_err(|e| e.to_string())
}

/// The `hostnum`-th address in `prefix`; negative numbers count from the end.
pub fn host(prefix: Ipv4Net, hostnum: i64) -> Result<Ipv4Addr, String> {
    let size = 1i64 << (32 - u32::from(prefix.prefix_len()));
    let index = if hostnum < 0 { size + hostnum } else { hostnum };
    if !(0..size).contains(&index) {
        return Err(format!("{prefix} has {size} addresses; host number {hostnum} is outside it"));
    }
    let base = i64::from(u32::from(prefix.network()));
    let addr = u32::try_from(base + index).map_err(|_| "address overflow".to_string())?;
    Ok(Ipv4Addr::from(addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test network")
    }

    #[test]
    fn known_answers() {
        assert_eq!(subnet(net("10.0.0.0/16"), 8, 1), Ok(net("10.0.1.0/24")));
        assert_eq!(subnet(net("10.0.0.0/16"), 3, 0), Ok(net("10.0.0.0/19")));
        assert_eq!(subnet(net("10.0.0.0/16"), 3, 7), Ok(net("10.0.224.0/19")));
        assert_eq!(host(net("10.0.1.0/24"), 5), Ok(Ipv4Addr::new(10, 0, 1, 5)));
        assert_eq!(host(net("10.0.1.0/24"), -1), Ok(Ipv4Addr::new(10, 0, 1, 255)));
        assert!(subnet(net("10.0.0.0/16"), 17, 0).is_err());
        assert!(subnet(net("10.0.0.0/16"), 8, 256).is_err());
        assert!(host(net("10.0.1.0/24"), 256).is_err());
    }

    proptest! {
        #[test]
        fn subnets_lie_inside_and_do_not_overlap(
            addr in any::<u32>(), len in 0u8..=28, newbits in 0u32..=8, a in any::<u64>(), b in any::<u64>()
        ) {
            let prefix = Ipv4Net::new(Ipv4Addr::from(addr), len).expect("len <= 32").trunc();
            let newbits = newbits.min(32 - u32::from(len));
            let count = 1u64 << newbits;
            let (a, b) = (a % count, b % count);
            let sa = subnet(prefix, newbits, a).expect("in range");
            let sb = subnet(prefix, newbits, b).expect("in range");
            prop_assert!(prefix.contains(&sa));
            prop_assert_eq!(u32::from(sa.prefix_len()), u32::from(len) + newbits);
            prop_assert_eq!(sa.network(), sa.trunc().network());
            if a == b {
                prop_assert_eq!(sa, sb);
            } else {
                prop_assert!(!sa.contains(&sb.network()) && !sb.contains(&sa.network()));
            }
        }

        #[test]
        fn hosts_lie_inside(addr in any::<u32>(), len in 0u8..=32, n in any::<i64>()) {
            let prefix = Ipv4Net::new(Ipv4Addr::from(addr), len).expect("len <= 32").trunc();
            let size = 1i64 << (32 - u32::from(len));
            let n = n % size;
            let h = host(prefix, n).expect("in range");
            prop_assert!(prefix.contains(&h));
        }
    }
}
