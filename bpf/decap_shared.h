/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Structs and constants shared by the XDP program and its userspace decoders (src/decode/layout.ts). */
#ifndef XDP_DECAP_SHARED_H
#define XDP_DECAP_SHARED_H

/*
 * This header is read by two compilers: clang -target bpf for the kernel program and, as a layout
 * reference, by src/decode/layout.ts, which mirrors every struct below with koffi. A test
 * (test/unit/layout.test.ts) compiles a probe against this header and checks every size and offset,
 * so a change here that is not mirrored there fails CI. Keep in sync with src/decode/layout.ts.
 */

#include <linux/types.h>

/*
 * Tunnel types: the tunnel_type field of the keys below. One row per type here and one in the userspace table
 * (src/decode/tunnel-types.ts: name, config key, default ports or GRE protocols); test/unit/layout.test.ts
 * checks that the two agree. UDP tunnels are found by destination port (map tunnel_ports), GRE ones by GRE
 * protocol type (map gre_protocols); userspace fills both from its table.
 */
#define TUNNEL_VXLAN 1	   /* RFC 7348: UDP, Ethernet payload, 24-bit VNI */
#define TUNNEL_GENEVE 2	   /* RFC 8926: UDP, Ethernet or IP payload, 24-bit VNI */
#define TUNNEL_VXLAN_GPE 3 /* draft-ietf-nvo3-vxlan-gpe: UDP, Ethernet or IP payload, 24-bit VNI */
#define TUNNEL_GRE 4	   /* RFC 2784/2890: GRE protocol 0x6558, Ethernet payload, 32-bit key */
#define TUNNEL_ERSPAN 5	   /* ERSPAN I/II (GRE 0x88BE) and III (GRE 0x22EB): mirrored Ethernet, 10-bit session id */
#define TUNNEL_TYPE_MAX 6

/* Tunnels inside tunnels stripped in one pass, outermost included; one more level passes as OUTCOME_TOO_DEEP. */
#define DECAP_MAX_DEPTH 3

/*
 * Outcome of one packet: 0 is "decapsulated", every other value is the reason it passed untouched.
 * The numbering is an ABI with userspace: keep in sync with OUTCOMES in src/decode/layout.ts.
 */
enum decap_outcome {
	OUTCOME_DECAPSULATED = 0, /* in outcome_stats only when vni_stats could not count it: readers add the VNI
				    * counters (packets; bytes + overhead_bytes), src/program/counters.ts */
	OUTCOME_NOT_TUNNEL = 1,	  /* not IPv4/IPv6 + UDP to a configured tunnel port */
	OUTCOME_FRAGMENT = 2,	  /* outer IPv4 MF/offset, or IPv6 fragment header */
	OUTCOME_TRUNCATED = 3,	  /* too short for the headers it announces, or inner frame < Ethernet header */
	OUTCOME_MALFORMED = 4,	  /* a header field the RFC does not allow: VXLAN I bit clear, bad version, bad IHL */
	OUTCOME_FILTERED = 5,	  /* outer destination outside the configured prefixes */
	OUTCOME_EXCLUDED = 6,	  /* outer source or destination in the exclude prefixes */
	OUTCOME_UNSUPPORTED =
		7, /* a tunnel with OAM or a payload not decapsulated (NSH, GRE routing), odd IPv6 ext headers */
	OUTCOME_ADJUST_FAILED = 8, /* bpf_xdp_adjust_head refused to move the head */
	OUTCOME_TOO_DEEP = 9,	   /* more than DECAP_MAX_DEPTH tunnels nested */
	OUTCOME_MAX = 10,
};

/*
 * outcome_stats is a per-CPU array indexed by ifindex * OUTCOME_MAX + outcome for the first
 * OUTCOME_IFINDEX_SLOTS interface indexes (an array lookup is inlined by the verifier: nearly free);
 * higher ifindexes are counted in the outcome_hi hash.
 */
#define OUTCOME_IFINDEX_SLOTS 512
#define OUTCOME_SLOTS (OUTCOME_IFINDEX_SLOTS * OUTCOME_MAX) /* outcome_stats entries */

/* Indexes of the map-health counters (map lost_updates). */
enum decap_lost {
	LOST_VNI_STATS = 0,	/* vni_stats full: a new (interface, type, VNI) was not counted */
	LOST_OUTCOME_STATS = 1, /* outcome_hi full: a new (interface >= 512, outcome) was not counted */
	LOST_FLOWS = 2,		/* flows refused an insert (the LRU evicts, so this should stay 0) */
	LOST_MAX = 3,
};

/* Runtime settings, one element of the config array map; userspace rewrites it on a config change. */
struct decap_config {
	__u32 dst_filter_v4; /* 1: decapsulate only IPv4 outer destinations found in dst_v4 */
	__u32 dst_filter_v6; /* 1: decapsulate only IPv6 outer destinations found in dst_v6 */
	__u32 track_flows;   /* 1: keep the per-flow table and the flows counter */
	__u32 exclude_v4;    /* 1: excl_v4 has entries (an empty trie is not even looked up) */
	__u32 exclude_v6;    /* 1: excl_v6 has entries */
	__u32 flow_sync_ms;  /* flow_cache slots add their counts to flows at least this often; <= the idle timeout */
	__u32 gre;	     /* 1: gre_protocols has entries (IP protocol 47 is looked at) */
};

/* LPM trie keys for outer IPv4 / IPv6 prefixes (prefixlen first, as the kernel requires). */
struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Per (interface, tunnel type, VNI) counters. */
struct vni_key {
	__u32 ifindex;
	__u32 vni;	   /* segment id: VNI (24 bits), GRE key (32), ERSPAN session id (10) */
	__u32 tunnel_type; /* TUNNEL_* */
};

struct vni_value {
	__u64 packets;	      /* frames decapsulated */
	__u64 bytes;	      /* inner frame bytes, what the taps after XDP see */
	__u64 overhead_bytes; /* outer bytes removed */
	__u64 flows;	      /* inner flows seen for the first time */
};

/*
 * One slot of the per-CPU VNI cache in front of vni_stats (bpf/maps.h explains the rules). Readers add
 * every CPU's slot counts to the vni_stats counts of the same key (src/program/counters.ts).
 */
struct vni_cache_slot {
	__u64 key; /* (ifindex << 8 | tunnel_type) << 32 | vni, for ifindex < 2^24; 0: empty */
	struct vni_value counts;
};

/* Slots per CPU of the VNI cache: 1 << VNI_CACHE_BITS. */
#ifndef VNI_CACHE_BITS
#define VNI_CACHE_BITS 10
#endif

/* Per (interface, outcome) counters. */
struct outcome_key {
	__u32 ifindex;
	__u32 outcome; /* enum decap_outcome */
};

struct outcome_value {
	__u64 packets;
	__u64 bytes; /* frame bytes as received */
};

/* Inner flow key: addresses are IPv4 (first 4 bytes, rest zero) or IPv6; ports in host byte order. */
struct flow_key {
	__u32 ifindex;
	__u32 vni;
	__u8 tunnel_type;
	__u8 family;   /* 4 or 6 */
	__u8 protocol; /* inner IP protocol */
	__u8 pad;
	__u16 sport; /* 0 unless TCP, UDP or SCTP */
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct flow_value {
	__u64 packets;
	__u64 bytes;	     /* inner frame bytes */
	__u64 first_seen_ns; /* bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC at tick resolution */
	__u64 last_seen_ns;
};

/*
 * One slot of the per-CPU flow cache in front of the shared flows table (bpf/maps.h explains the rules).
 * packets/bytes are counted on this CPU since the slot last added them to flows: a reader adds them to the
 * flows entry with the same key (src/decode/flow-decoders.ts, mergeFlowCache). An empty slot has ifindex 0.
 */
struct flow_cache_slot {
	struct flow_key key;
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
	__u64 synced_ns; /* when the slot last added its counts to flows */
};

/* The coarse clock as a CPU last read it (map tick_clock in maps.h); userspace does not read it. */
struct tick_clock {
	__u64 jiffies;
	__u64 ns;
};

/* Slots per CPU (a power of two); the slot of a key is flow_cache_index() in flows.h, mirrored in flow-decoders.ts. */
#ifndef FLOW_CACHE_SLOTS
#define FLOW_CACHE_SLOTS 4096
#endif

#endif /* XDP_DECAP_SHARED_H */
