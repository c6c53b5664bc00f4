/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsers of the tunnel headers (VXLAN, Geneve, VXLAN-GPE, GRE with its options, ERSPAN II and III), over a cursor. */
#ifndef XDP_DECAP_PARSE_TUNNELS_H
#define XDP_DECAP_PARSE_TUNNELS_H

#include "parse_l2l4.h"

#define VXLAN_FLAG_I 0x08  /* RFC 7348: the VNI is valid */
#define GENEVE_FLAG_O 0x80 /* RFC 8926: OAM / control packet */

/* VXLAN-GPE flags (draft-ietf-nvo3-vxlan-gpe section 3.1): R R Ver(2) I P B O. */
#define GPE_FLAG_VER 0x30
#define GPE_FLAG_I 0x08
#define GPE_FLAG_P 0x04 /* the next protocol field is present */
#define GPE_FLAG_O 0x01 /* OAM */
#define GPE_NP_IPV4 1
#define GPE_NP_IPV6 2
#define GPE_NP_ETHERNET 3

/*
 * GRE flags and version (RFC 2784 section 2, RFC 2890 section 2), host byte order: tested against the header's
 * word as it is on the wire (flags & bpf_htons(GRE_FLAG_x), swapped at compile time). A value that went
 * through a byte swap at run time has no known bounds for the verifiers of 6.1 and 6.12 (`r = be16 r` forgets
 * them; 6.18 keeps them), so a swapped flag must never size a cursor move: see parse_gre_options.
 */
#define GRE_FLAG_C 0x8000 /* checksum + reserved1 present */
#define GRE_FLAG_R 0x4000 /* RFC 1701 routing present */
#define GRE_FLAG_K 0x2000 /* key present */
#define GRE_FLAG_S 0x1000 /* sequence number present */
#define GRE_VERSION 0x0007

/* GRE protocol types of ERSPAN (the kernel's UAPI if_ether.h names 0x88BE ETH_P_ERSPAN, 0x22EB ETH_P_ERSPAN2). */
#ifndef ETH_P_ERSPAN
#define ETH_P_ERSPAN 0x88BE
#endif
#ifndef ETH_P_ERSPAN2
#define ETH_P_ERSPAN2 0x22EB
#endif
#define ERSPAN_II_VERSION 1
#define ERSPAN_III_VERSION 2

/* What a tunnel header says follows it (parsers return it; >= 0, unlike PARSE_*). */
#define PAYLOAD_ETHERNET 0
#define PAYLOAD_IPV4 1
#define PAYLOAD_IPV6 2

/* RFC 2784 section 2.1: C R K S s Recur(3) Flags(5) Ver(3) | Protocol Type(16); optional fields follow. */
struct grehdr {
	__be16 flags_version;
	__be16 protocol;
};

/* ERSPAN type II (8 bytes): Ver(4) VLAN(12) | COS(3) En(2) T(1) Session ID(10) | Reserved(12) Index(20). */
struct erspan2hdr {
	__be16 ver_vlan;
	__be16 cos_en_t_session;
	__be32 reserved_index;
};

/*
 * ERSPAN type III (12 bytes): Ver(4) VLAN(12) | COS(3) BSO(2) T(1) Session ID(10) | Timestamp(32) |
 * SGT(16) | P(1) FT(5) Hw ID(6) D(1) Gra(2) O(1). With O set, an 8-byte platform-specific subheader follows.
 */
struct erspan3hdr {
	__be16 ver_vlan;
	__be16 cos_bso_t_session;
	__be32 timestamp;
	__be16 sgt;
	__u8 p_ft_hwid;
	__u8 hwid_d_gra_o;
};

/* VXLAN-GPE (8 bytes): flags(8) reserved(16) next protocol(8) | VNI(24) reserved(8). */
struct gpehdr {
	__u8 flags;
	__u8 reserved[2];
	__u8 next_protocol;
	__u8 vni[3];
	__u8 reserved2;
};

/* RFC 7348 section 5: flags(8) reserved(24) VNI(24) reserved(8). */
struct vxlanhdr {
	__u8 flags;
	__u8 reserved1[3];
	__u8 vni[3];
	__u8 reserved2;
};

/* RFC 8926 section 3.4: ver(2) opt_len(6) | O C rsvd(6) | protocol type(16) | VNI(24) rsvd(8). */
struct genevehdr {
	__u8 ver_optlen;
	__u8 flags;
	__be16 protocol;
	__u8 vni[3];
	__u8 reserved;
};

/* VXLAN; returns 0 and the VNI, the cursor left on the inner Ethernet header. */
static __always_inline int parse_vxlanhdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct vxlanhdr *vxh = nh->pos;

	if ((void *)(vxh + 1) > data_end)
		return PARSE_TRUNCATED;
	/* Without the I bit the VNI field means nothing (RFC 7348 section 5). */
	if (!(vxh->flags & VXLAN_FLAG_I))
		return PARSE_MALFORMED;
	*vni = ((__u32)vxh->vni[0] << 16) | ((__u32)vxh->vni[1] << 8) | vxh->vni[2];
	nh->pos = vxh + 1;
	return 0;
}

/* Geneve with its options; returns the PAYLOAD_* kind and the VNI, the cursor left on the payload. */
static __always_inline int parse_genevehdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct genevehdr *gnh = nh->pos;
	int hdrsize, payload;

	if ((void *)(gnh + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((gnh->ver_optlen >> 6) != 0)
		return PARSE_MALFORMED;
	/* Control packets carry no frame for the taps. */
	if (gnh->flags & GENEVE_FLAG_O)
		return PARSE_UNSUPPORTED;
	switch (bpf_ntohs(gnh->protocol)) {
	case ETH_P_TEB: /* Transparent Ethernet Bridging: an Ethernet payload */
		payload = PAYLOAD_ETHERNET;
		break;
	case ETH_P_IP:
		payload = PAYLOAD_IPV4;
		break;
	case ETH_P_IPV6:
		payload = PAYLOAD_IPV6;
		break;
	default:
		return PARSE_UNSUPPORTED;
	}
	/* Header length includes the options: opt_len counts 4-byte words, at most 63 of them. */
	hdrsize = sizeof(*gnh) + (gnh->ver_optlen & 0x3f) * 4;
	if (nh->pos + hdrsize > data_end)
		return PARSE_TRUNCATED;
	*vni = ((__u32)gnh->vni[0] << 16) | ((__u32)gnh->vni[1] << 8) | gnh->vni[2];
	nh->pos += hdrsize;
	return payload;
}

/* VXLAN-GPE; returns the PAYLOAD_* kind and the VNI, the cursor left on the payload. NSH is unsupported. */
static __always_inline int parse_gpehdr(struct hdr_cursor *nh, void *data_end, __u32 *vni)
{
	struct gpehdr *gpe = nh->pos;
	int payload;

	if ((void *)(gpe + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((gpe->flags & GPE_FLAG_VER) || !(gpe->flags & GPE_FLAG_I) || !(gpe->flags & GPE_FLAG_P))
		return PARSE_MALFORMED;
	if (gpe->flags & GPE_FLAG_O)
		return PARSE_UNSUPPORTED;
	switch (gpe->next_protocol) {
	case GPE_NP_ETHERNET:
		payload = PAYLOAD_ETHERNET;
		break;
	case GPE_NP_IPV4:
		payload = PAYLOAD_IPV4;
		break;
	case GPE_NP_IPV6:
		payload = PAYLOAD_IPV6;
		break;
	default:
		return PARSE_UNSUPPORTED;
	}
	*vni = ((__u32)gpe->vni[0] << 16) | ((__u32)gpe->vni[1] << 8) | gpe->vni[2];
	nh->pos = gpe + 1;
	return payload;
}

/*
 * GRE's fixed part; returns its protocol type and sets *flags (network byte order, as on the wire), or
 * PARSE_TRUNCATED. A version other than 0 (PPTP's enhanced GRE is 1) returns 0, which no tunnel type uses: not
 * a tunnel.
 */
static __always_inline int parse_grehdr(struct hdr_cursor *nh, void *data_end, __be16 *flags)
{
	struct grehdr *gre = nh->pos;

	if ((void *)(gre + 1) > data_end)
		return PARSE_TRUNCATED;
	*flags = gre->flags_version;
	if (*flags & bpf_htons(GRE_VERSION))
		return 0;
	nh->pos = gre + 1;
	return bpf_ntohs(gre->protocol);
}

/*
 * GRE's optional fields (checksum + reserved1, key, sequence number: 4 bytes each, each there when its bit is
 * set); *key gets the key or 0. Their length is computed, not branched on: one cursor state for the verifier
 * instead of one per combination of bits. `flags` is in network byte order: each bit is tested in place, so
 * the lengths stay 0 or 4 for every verifier.
 */
static __always_inline int parse_gre_options(struct hdr_cursor *nh, void *data_end, __be16 flags, __u32 *key)
{
	__u32 has_c = (flags & bpf_htons(GRE_FLAG_C)) ? 1 : 0, has_k = (flags & bpf_htons(GRE_FLAG_K)) ? 1 : 0;
	__u32 len = (has_c + has_k + ((flags & bpf_htons(GRE_FLAG_S)) ? 1 : 0)) * 4;

	if (flags & bpf_htons(GRE_FLAG_R))
		return PARSE_UNSUPPORTED;
	if (nh->pos + len > data_end)
		return PARSE_TRUNCATED;
	*key = 0;
	if (has_k) {
		__be32 *field = nh->pos + has_c * 4;

		if ((void *)(field + 1) > data_end)
			return PARSE_TRUNCATED;
		*key = bpf_ntohl(*field);
	}
	nh->pos += len;
	return 0;
}

/* ERSPAN type II header; returns 0 and the session id, the cursor left on the mirrored Ethernet frame. */
static __always_inline int parse_erspan2hdr(struct hdr_cursor *nh, void *data_end, __u32 *session)
{
	struct erspan2hdr *ers = nh->pos;

	if ((void *)(ers + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((bpf_ntohs(ers->ver_vlan) >> 12) != ERSPAN_II_VERSION)
		return PARSE_MALFORMED;
	*session = bpf_ntohs(ers->cos_en_t_session) & 0x3ff;
	nh->pos = ers + 1;
	return 0;
}

/* ERSPAN type III header (+ its platform subheader); returns 0 and the session id, cursor on the frame. */
static __always_inline int parse_erspan3hdr(struct hdr_cursor *nh, void *data_end, __u32 *session)
{
	struct erspan3hdr *ers = nh->pos;

	if ((void *)(ers + 1) > data_end)
		return PARSE_TRUNCATED;
	if ((bpf_ntohs(ers->ver_vlan) >> 12) != ERSPAN_III_VERSION)
		return PARSE_MALFORMED;
	/* Frame type 0 is Ethernet; 2 (IP) and the others carry no Ethernet frame. */
	if ((ers->p_ft_hwid >> 2) & 0x1f)
		return PARSE_UNSUPPORTED;
	*session = bpf_ntohs(ers->cos_bso_t_session) & 0x3ff;
	nh->pos = ers + 1;
	if (ers->hwid_d_gra_o & 0x01) {
		if (nh->pos + 8 > data_end)
			return PARSE_TRUNCATED;
		nh->pos += 8;
	}
	return 0;
}

#endif /* XDP_DECAP_PARSE_TUNNELS_H */
