// The private metrics channel: length-prefixed OTLP ExportMetricsServiceRequest messages on an inherited pipe.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.uber.org/zap"
)

// maxFrameBytes bounds one message; keep in sync with MAX_FRAME_BYTES in src/metrics/pipe-exporter.ts.
const maxFrameBytes = 64 * 1024 * 1024

// readFrame reads one frame: a 4-byte big-endian length, then that many bytes of protobuf.
func readFrame(r io.Reader) (pmetric.Metrics, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return pmetric.Metrics{}, err // io.EOF between frames: the writer closed
	}
	n := binary.BigEndian.Uint32(header[:])
	if n > maxFrameBytes {
		return pmetric.Metrics{}, fmt.Errorf("metrics frame of %d bytes exceeds the %d-byte limit", n, maxFrameBytes)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return pmetric.Metrics{}, fmt.Errorf("metrics frame cut short after its %d-byte header: %w", n, err)
	}
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return pmetric.Metrics{}, fmt.Errorf("metrics frame is not an OTLP ExportMetricsServiceRequest: %w", err)
	}
	return req.Metrics(), nil
}

// readMetrics forwards every frame to next until the daemon closes the pipe; firstFrame runs after the first one.
func readMetrics(pipe io.ReadCloser, logger *zap.Logger, next consumer.Metrics, firstFrame func()) {
	defer pipe.Close()
	in := bufio.NewReaderSize(pipe, 1<<16)
	first := true
	for {
		md, err := readFrame(in)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The stream cannot be resynchronised; the daemon will see EPIPE on its next export and log it.
			logger.Error("xdp-decap metrics channel broken; dropping it until the daemon restarts", zap.Error(err))
			_, _ = io.Copy(io.Discard, in)
			return
		}
		if err := next.ConsumeMetrics(context.Background(), md); err != nil {
			logger.Warn("next consumer refused xdp-decap metrics", zap.Int("data_points", md.DataPointCount()), zap.Error(err))
		}
		if first {
			first = false
			firstFrame()
		}
	}
}
