/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One tunnel level of docs/decap-rules.md: from the frame at the head to its payload, with the reason when it is no tunnel. */
#ifndef XDP_DECAP_LEVELS_H
#define XDP_DECAP_LEVELS_H

#include "maps.h"
#include "parse_tunnels.h"

/* 0 when the outer addresses pass the exclude set and the destination filter, else the outcome. */
static __always_inline int check_outer_v4(struct decap_config *cfg, struct iphdr *iph)
{
	struct lpm_v4_key key = { .prefixlen = 32 };

	if (cfg->exclude_v4) {
		__builtin_memcpy(key.addr, &iph->saddr, 4);
		if (bpf_map_lookup_elem(&excl_v4, &key))
			return OUTCOME_EXCLUDED;
	}
	__builtin_memcpy(key.addr, &iph->daddr, 4);
	if (cfg->exclude_v4 && bpf_map_lookup_elem(&excl_v4, &key))
		return OUTCOME_EXCLUDED;
	if (cfg->dst_filter_v4 && !bpf_map_lookup_elem(&dst_v4, &key))
		return OUTCOME_FILTERED;
	return 0;
}

static __always_inline int check_outer_v6(struct decap_config *cfg, struct ipv6hdr *ip6h)
{
	struct lpm_v6_key key = { .prefixlen = 128 };

	if (cfg->exclude_v6) {
		__builtin_memcpy(key.addr, &ip6h->saddr, 16);
		if (bpf_map_lookup_elem(&excl_v6, &key))
			return OUTCOME_EXCLUDED;
	}
	__builtin_memcpy(key.addr, &ip6h->daddr, 16);
	if (cfg->exclude_v6 && bpf_map_lookup_elem(&excl_v6, &key))
		return OUTCOME_EXCLUDED;
	if (cfg->dst_filter_v6 && !bpf_map_lookup_elem(&dst_v6, &key))
		return OUTCOME_FILTERED;
	return 0;
}

static __always_inline int outcome_of(int parse_err)
{
	switch (parse_err) {
	case PARSE_MALFORMED:
		return OUTCOME_MALFORMED;
	case PARSE_FRAGMENT:
		return OUTCOME_FRAGMENT;
	case PARSE_UNSUPPORTED:
		return OUTCOME_UNSUPPORTED;
	case PARSE_NOT_TUNNEL:
		return OUTCOME_NOT_TUNNEL;
	default:
		return OUTCOME_TRUNCATED;
	}
}

/* One tunnel level found by parse_level: what to count it as, and where and what its payload is. */
struct tunnel_level {
	__u32 type;    /* TUNNEL_* */
	__u32 vni;     /* segment id */
	__u32 payload; /* PAYLOAD_*: what follows the tunnel header */
	__u32 end;     /* offset of the payload: the bytes this level's headers take */
};

/*
 * `value & mask` as one instruction clang cannot drop: for an offset already checked to be <= mask, it changes
 * nothing, but it bounds the very register added to a packet pointer (clang may check one copy and add another).
 */
static __always_inline __u64 verifier_bound(__u64 value, __u64 mask)
{
	asm volatile("%[v] &= %[m]" : [v] "+r"(value) : [m] "i"(mask));
	return value;
}

/* Where a walk of IPv6 extension headers ended, and the fragment header's offset and M flag if it met one. */
struct ip6_ext_walk {
	__u32 end; /* offset of the upper-layer header from the start of the frame */
	__u16 frag_off;
	__u16 pad;
};

/* Bounds the offset a walk returns (the IPv6 header, then at most IPV6_EXT_MAX headers of up to 2 KiB). */
#define IP6_EXT_WALK_MAX_END 16384

/*
 * parse_ip6_extensions at offset `off` as a global function: the verifier checks the walk once, and each
 * caller goes on from one offset of unknown value rather than from one constant offset per path through the
 * walk (with the walk inlined, those paths multiplied the states of everything after it).
 */
__noinline int walk_ip6_extensions(struct xdp_md *ctx, __u32 off, __u32 nexthdr, struct ip6_ext_walk *walk)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;
	__u16 frag_off = 0;
	int proto;

	if (!walk || off >= IP6_EXT_WALK_MAX_END)
		return PARSE_TRUNCATED;
	nh.pos = data + verifier_bound(off, IP6_EXT_WALK_MAX_END - 1);
	proto = parse_ip6_extensions(&nh, data_end, nexthdr, &frag_off);
	walk->end = nh.pos - data;
	walk->frag_off = frag_off;
	return proto;
}

/* What parse_gre_carrier found: the tunnel type, the header's end, its protocol type, flags and key. */
struct gre_carrier {
	__u32 type; /* TUNNEL_*, from gre_protocols */
	__u32 end;  /* offset of what follows GRE's optional fields, from the start of the frame */
	__u32 key;  /* 0 without the K bit */
	__u16 protocol;
	__be16 flags; /* as on the wire */
};

/* Bounds the offsets a carrier parser returns. */
#define CARRIER_MAX_END 16384

/*
 * GRE at offset `off` (docs/decap-rules.md step 3): the fixed part, the protocol type checked against
 * gre_protocols, the routing bit, the optional fields. Returns 0 with *gre filled, or the outcome. A global
 * function for the same reason as walk_ip6_extensions: each combination of C, K and S is another offset.
 */
__noinline int parse_gre_carrier(struct xdp_md *ctx, __u32 off, struct gre_carrier *gre)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;
	__u32 key, *tunnel;
	__be16 flags = 0;
	int proto, ret;

	if (!gre || off >= CARRIER_MAX_END)
		return OUTCOME_TRUNCATED;
	nh.pos = data + verifier_bound(off, CARRIER_MAX_END - 1);
	proto = parse_grehdr(&nh, data_end, &flags);
	if (proto < 0)
		return OUTCOME_TRUNCATED;
	key = proto;
	tunnel = bpf_map_lookup_elem(&gre_protocols, &key);
	if (!tunnel || !*tunnel)
		return OUTCOME_NOT_TUNNEL;
	ret = parse_gre_options(&nh, data_end, flags, &gre->key);
	if (ret < 0)
		return outcome_of(ret);
	gre->type = *tunnel;
	gre->end = nh.pos - data;
	gre->protocol = proto;
	gre->flags = flags;
	return 0;
}

/* The fixed-size header a payload must at least hold (docs/decap-rules.md, step 7). */
static __always_inline int payload_min_len(__u32 payload)
{
	/* One choice a line reads best (an if-chain would also reorder clang's code): kept out of clang-format. */
	/* clang-format off */
	return payload == PAYLOAD_IPV4 ? sizeof(struct iphdr) :
	       payload == PAYLOAD_IPV6 ? sizeof(struct ipv6hdr) : sizeof(struct ethhdr);
	/* clang-format on */
}

/*
 * docs/decap-rules.md steps 1-2 of a level: the Ethernet header and its VLAN tags (or the IP packet a tunnel
 * carried: `payload`), then IPv4 or IPv6 with its extension headers, leaving the cursor on the carrier. Returns
 * the IP protocol (>= 0), or the negated outcome that says why this is no tunnel to strip.
 */
static __always_inline int parse_level_ip(struct xdp_md *ctx, struct hdr_cursor *nh, void *data, void *data_end,
					  __u32 payload, struct iphdr **iph, struct ipv6hdr **ip6h, int *first_fragment)
{
	__u16 frag_off = 0;
	int proto;

	if (payload == PAYLOAD_ETHERNET)
		proto = parse_ethhdr(nh, data_end);
	else
		proto = payload == PAYLOAD_IPV4 ? ETH_P_IP : ETH_P_IPV6;
	if (proto == ETH_P_IP) {
		proto = parse_iphdr(nh, data_end, iph, &frag_off);
		/* A later fragment has no carrier header to look at. */
		if (proto >= 0 && (frag_off & IPV4_OFFSET))
			return -OUTCOME_FRAGMENT;
		*first_fragment = frag_off & IPV4_MF;
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(nh, data_end, ip6h);
		if (proto >= 0 && (ipv6_is_walked_extension(proto) || proto == IPPROTO_FRAGMENT ||
				   ipv6_is_unwalked_extension(proto))) {
			struct ip6_ext_walk walk = {};

			proto = walk_ip6_extensions(ctx, nh->pos - data, proto, &walk);
			if (walk.end >= IP6_EXT_WALK_MAX_END)
				return -OUTCOME_TRUNCATED;
			nh->pos = data + verifier_bound(walk.end, IP6_EXT_WALK_MAX_END - 1);
			frag_off = walk.frag_off;
		}
		*first_fragment = frag_off & IPV6_FRAG_M;
	} else if (proto >= 0) {
		return -OUTCOME_NOT_TUNNEL; /* not IP */
	}
	if (proto < 0)
		return -outcome_of(proto);
	return proto;
}

/*
 * The tunnel header of a level whose carrier said lv->type (docs/decap-rules.md, step 6): sets lv->vni, returns
 * the PAYLOAD_* kind that follows, or a PARSE_* error (PARSE_NOT_TUNNEL for a type no parser knows). GRE's
 * key, protocol type and flags come from its carrier.
 */
static __always_inline int parse_tunnel_header(struct hdr_cursor *nh, void *data_end, struct tunnel_level *lv,
					       __u32 gre_key, int gre_proto, __be16 gre_flags)
{
	int ret;

	lv->vni = 0;
	switch (lv->type) {
	case TUNNEL_VXLAN:
		return parse_vxlanhdr(nh, data_end, &lv->vni);
	case TUNNEL_GENEVE:
		return parse_genevehdr(nh, data_end, &lv->vni);
	case TUNNEL_VXLAN_GPE:
		return parse_gpehdr(nh, data_end, &lv->vni);
	case TUNNEL_GRE:
		lv->vni = gre_key; /* 0 without a key */
		return PAYLOAD_ETHERNET;
	case TUNNEL_ERSPAN:
		/* Type III has its own protocol type; type II a sequence number; type I neither, and no header. */
		ret = 0;
		if (gre_proto == ETH_P_ERSPAN2)
			ret = parse_erspan3hdr(nh, data_end, &lv->vni);
		else if (gre_flags & bpf_htons(GRE_FLAG_S))
			ret = parse_erspan2hdr(nh, data_end, &lv->vni);
		return ret == 0 ? PAYLOAD_ETHERNET : ret;
	default:
		return PARSE_NOT_TUNNEL;
	}
}

/*
 * One level of docs/decap-rules.md: at the head of the frame (earlier levels are already stripped), a frame of kind `payload` (an Ethernet frame, or an IP
 * packet a tunnel carried), its IP header, the carrier (UDP port or GRE protocol) and the tunnel header.
 * Returns OUTCOME_DECAPSULATED with *lv filled, or the outcome that says why this level is not a tunnel to
 * strip. The address checks apply to the outermost level only.
 *
 * Inlined for the outermost level (every packet); nested levels go through parse_nested_level below.
 */
static __always_inline int parse_level(struct xdp_md *ctx, __u32 off, __u32 payload, struct decap_config *cfg,
				       __u32 outermost, struct tunnel_level *lv)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor cursor, *nh = &cursor;

	if (!lv)
		return OUTCOME_NOT_TUNNEL;
	/* 0 from every caller: the head is moved past each level as it is stripped. */
	if (off > 64)
		return OUTCOME_TRUNCATED;
	cursor.pos = data + off;
	struct iphdr *iph = NULL;
	struct ipv6hdr *ip6h = NULL;
	__u32 *tunnel, tunnel_type, key, gre_key = 0, zero = 0;
	__be16 gre_flags = 0;
	int proto, first_fragment, ret = 0, gre_proto = 0;

	/* Steps 1-2: the Ethernet header (or the IP packet a tunnel carried), then IPv4 or IPv6 and its extensions. */
	proto = parse_level_ip(ctx, nh, data, data_end, payload, &iph, &ip6h, &first_fragment);
	if (proto < 0)
		return -proto;

	/* The carrier: a tunnel type by UDP destination port, or by GRE protocol type. */
	if (proto == IPPROTO_UDP) {
		ret = parse_udphdr(nh, data_end);
		if (ret < 0)
			return OUTCOME_TRUNCATED;
		key = ret;
		tunnel = bpf_map_lookup_elem(&tunnel_ports, &key);
		tunnel_type = tunnel ? *tunnel : 0;
	} else if (proto == IPPROTO_GRE) {
		if (!cfg)
			cfg = bpf_map_lookup_elem(&decap_cfg, &zero);
		if (!cfg || !cfg->gre)
			return OUTCOME_NOT_TUNNEL;
		struct gre_carrier gre = {};

		ret = parse_gre_carrier(ctx, nh->pos - data, &gre);
		if (ret)
			return ret;
		if (gre.end >= CARRIER_MAX_END)
			return OUTCOME_TRUNCATED;
		nh->pos = data + verifier_bound(gre.end, CARRIER_MAX_END - 1);
		gre_proto = gre.protocol;
		gre_flags = gre.flags;
		gre_key = gre.key;
		tunnel_type = gre.type;
	} else {
		return OUTCOME_NOT_TUNNEL;
	}
	if (!tunnel_type)
		return OUTCOME_NOT_TUNNEL;
	/* First fragment of a tunnel packet: the inner frame is cut, so it cannot be handed on whole. */
	if (first_fragment)
		return OUTCOME_FRAGMENT;

	if (outermost) {
		if (!cfg)
			return OUTCOME_NOT_TUNNEL;
		/* Validation point: outer addresses against the exclude set, then the destination filter. */
		if (iph)
			ret = check_outer_v4(cfg, iph);
		else if (ip6h)
			ret = check_outer_v6(cfg, ip6h);
		if (ret)
			return ret;
	}

	/* The tunnel header: one parser per type (bpf/parse_tunnels.h). */
	lv->type = tunnel_type;
	ret = parse_tunnel_header(nh, data_end, lv, gre_key, gre_proto, gre_flags);
	if (ret < 0)
		return outcome_of(ret);
	lv->payload = ret;
	/* Validation point: the payload must hold at least its fixed header. */
	if (nh->pos + payload_min_len(ret) > data_end)
		return OUTCOME_TRUNCATED;
	lv->end = nh->pos - data;
	return OUTCOME_DECAPSULATED;
}

/* A nested level: a global function, so the verifier checks it once, not once per level and path. */
__noinline int parse_nested_level(struct xdp_md *ctx, __u32 off, __u32 payload, struct tunnel_level *lv)
{
	return parse_level(ctx, off, payload, NULL, 0, lv);
}

/*
 * Cheap test before parse_nested_level: 0 when the frame at the head is an untagged Ethernet frame with an
 * IPv4 or IPv6 packet that is neither GRE nor UDP to a tunnel port, the common case, which cannot be a
 * tunnel; 1 when it may be one (anything else: parse_nested_level decides).
 */
static __always_inline int may_be_tunnel(struct xdp_md *ctx, __u32 payload)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	struct udphdr *udph;
	__u32 port, *tunnel;
	__u8 proto;

	if (payload != PAYLOAD_ETHERNET)
		return 1;
	eth = data;
	iph = (void *)(eth + 1);
	ip6h = (void *)(eth + 1);
	if ((void *)(eth + 1) > data_end)
		return 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return 1;
		proto = iph->protocol;
		udph = (void *)(iph + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(ip6h + 1) > data_end)
			return 1;
		proto = ip6h->nexthdr;
		udph = (void *)(ip6h + 1);
	} else {
		return 1;
	}
	if (proto != IPPROTO_UDP)
		return proto == IPPROTO_GRE || ipv6_is_walked_extension(proto) || proto == IPPROTO_FRAGMENT;
	if ((void *)(udph + 1) > data_end)
		return 1;
	port = bpf_ntohs(udph->dest);
	tunnel = bpf_map_lookup_elem(&tunnel_ports, &port);
	return !tunnel || *tunnel;
}

#endif /* XDP_DECAP_LEVELS_H */
