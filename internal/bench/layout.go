package bench

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The table's attributes: the partition key, the sort key and the payload.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrPayload = "v"
)

// layout maps item numbers to keys: item i lives in partition i/sortKeys at
// sort key i%sortKeys. Keys are rounded down to whole partitions.
type layout struct {
	partitions, sortKeys, itemSize int
}

func newLayout(o *Options) layout {
	return layout{partitions: o.Keys / o.SortKeys, sortKeys: o.SortKeys, itemSize: o.ItemSize}
}

// items returns the number of items in the key space.
func (l layout) items() int { return l.partitions * l.sortKeys }

// partitionKey returns partition p's key: fixed width, so every item of one
// ItemSize has the same size.
func partitionKey(p int) string { return fmt.Sprintf("p%08d", p) }

// key returns item i's partition and sort key.
func (l layout) key(i int) (pk string, sk int) {
	return partitionKey(i / l.sortKeys), i % l.sortKeys
}

// keyAttrs returns the key of item i as DynamoDB attributes.
func (l layout) keyAttrs(i int) map[string]types.AttributeValue {
	pk, sk := l.key(i)
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberN{Value: strconv.Itoa(sk)},
	}
}

// item returns item i with its payload cut from payload, which must hold at
// least itemSize bytes. The item shares payload's memory.
func (l layout) item(i int, payload []byte) map[string]types.AttributeValue {
	pk, sk := l.key(i)
	attrs := l.keyAttrs(i)
	attrs[attrPayload] = &types.AttributeValueMemberB{Value: payload[:payloadSize(l.itemSize, pk, sk)]}
	return attrs
}

// payloadSize returns the length of the binary payload that makes an item
// with these keys itemSize bytes as DynamoDB counts them: each attribute's
// name plus its value, a number taking one byte per two significant digits
// plus one. The result is at least 1.
func payloadSize(itemSize int, pk string, sk int) int {
	digits := len(strconv.Itoa(sk))
	overhead := len(attrPK) + len(pk) + len(attrSK) + (digits+1)/2 + 1 + len(attrPayload)
	return max(itemSize-overhead, 1)
}
