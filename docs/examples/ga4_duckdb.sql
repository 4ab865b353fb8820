-- Inactivity sessions: a new session when the gap to the user's previous event is > 1800000 ms.
WITH marked AS (
  SELECT row_id, user_id, timestamp_ms,
         CASE WHEN LAG(timestamp_ms) OVER w IS NULL
                OR timestamp_ms - LAG(timestamp_ms) OVER w > 1800000
              THEN 1 ELSE 0 END AS is_new
  FROM events
  WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id)
)
SELECT row_id,
       SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id
FROM marked
