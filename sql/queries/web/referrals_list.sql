SELECT rf.id, rf.period, rf.created_at, rf.updated_at, rf.out_dir, rf.files, rf.counts
FROM referrals rf
ORDER BY rf.period DESC
