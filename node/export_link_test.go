package node

import "lookout/protocol"

// PlaintextsForTest returns the decrypted plaintext (chain, body,
// signature) of every message this node holds, in every zone: what its
// member could read from what it received.
func (n *Node) PlaintextsForTest() [][]byte {
	var out [][]byte
	for _, z := range n.liveZones() {
		z.mu.Lock()
		var envs [][]byte
		for _, s := range z.envs {
			envs = append(envs, s.env)
		}
		for _, g := range z.gov {
			envs = append(envs, g.env)
		}
		z.mu.Unlock()
		for _, env := range envs {
			epoch, err := protocol.EnvelopeEpoch(env)
			if err != nil {
				continue
			}
			key, ok := z.key(epoch)
			if !ok {
				continue
			}
			s, err := protocol.Open(key, env)
			if err != nil {
				continue
			}
			if b, err := s.MarshalBinary(); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}
