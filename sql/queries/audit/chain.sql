-- Every audit row in append order with the hash it carries and the hash its content gives now.
SELECT chain_seq, prev_hash, row_hash,
       audit_row_hash(prev_hash, chain_seq, at, actor, action, target, detail)
FROM audit_log
ORDER BY chain_seq
