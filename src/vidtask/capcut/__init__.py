"""The capcut-mate drop-in (issue 8): durable drafts built with capcut-mate's API, compiled to
vidtask timelines, and JianYing draft folders imported as timelines. Pure, apart from
`vidtask.capcut.jianying` reading a draft folder."""
